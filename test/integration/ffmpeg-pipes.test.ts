import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { cameraSession } from "../../node/source/create-session.js";
import { tempDir } from "../helpers/node.js";
import { testChildEnv } from "../helpers/child-env.js";
import { systemClock } from "../../platform/clock.js";

// ffmpeg reports a frame on stdout (framecrc) and its input's start time on stderr: two pipes, which a
// busy machine may deliver in either order. CI once saw a session whose first frame arrived before the
// start line: without its anchor the node took the clean end for a failure ("ffmpeg exited with 0").
// The stand-in ffmpeg (a real process) prints its frames, then, 300 ms later, the start line.

const START_S = 1_795_570_800;

function standIn(dir: string): string {
  const file = path.join(dir, "ffmpeg-late-start-line.sh");
  // As ffmpeg muxes them (stream-timestamps.ts): the first frame at zero, its own time + 1 tick as its duration.
  const frames = Array.from({ length: 30 }, (_, i) =>
    i === 0 ? "0, 0, 0, 1, 100, 0x0" : `0, ${i * 33333 - 500}, ${i * 33333 - 500}, 33333, 100, 0x0`,
  ).join("\\n");
  writeFileSync(
    file,
    `#!/bin/sh
case " $* " in *" tee "*) ;; *) exit 1 ;; esac
printf '#tb 0: 1/1000000\\n${frames}\\n'
sleep 0.3
echo "  Duration: N/A, start: ${START_S}.000000, bitrate: N/A" >&2
exit 0
`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe("ffmpeg's two pipes", () => {
  it("the first frame before the input's start line: the session still ends completed, its first frame anchored", async () => {
    const dir = tempDir();
    const events: string[] = [];
    const recording = cameraSession(
      {
        node: "P1",
        session: "pipes",
        sessionDir: path.join(dir, "pipes"),
        ffmpegPath: standIn(dir),
        launcher: [],
        capture: {
          camera: "synthetic",
          videoSize: "64x48",
          framerate: 30,
          inputFormat: "mjpeg",
          codec: "mjpeg",
          batchDuration: 10,
          duration: 1,
          alignToUs: null,
        },
        startTimeoutMs: 5000,
        stopTimeoutMs: 1000,
        restartPolicy: { baseDelayMs: 500, maxDelayMs: 8000, maxFailures: 0, windowMs: 60_000 },
      },
      {
        log: pino({ level: "silent" }),
        childEnv: testChildEnv,
        redact: (text: string) => text,
        announce: async () => {},
        syncStatus: () => ({ synced: false, reason: "test" }),
        event: (e) => events.push(e.type),
        clock: systemClock(),
      },
    );
    await recording.start();
    const result = await recording.done;
    assert.notEqual(result.reason, "failed", JSON.stringify({ result, events }));
    // The first frame's time is the one its duration carries (0 after the input's start).
    assert.equal(recording.startedAtUs, START_S * 1e6, "the first frame anchored at the input's start");
    assert.ok(!events.includes("recorder_failed"), events.join(","));
  });
});
