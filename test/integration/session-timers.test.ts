import assert from "node:assert/strict";
import { spawn as nodeSpawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import type { SpawnFn } from "../../node/process/child-runner.js";
import { cameraSession, createSession } from "../../node/source/create-session.js";
import { SessionController } from "../../node/session/session-controller.js";
import { loadConfig } from "../../platform/config/config.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/node.js";
import { testChildEnv } from "../helpers/child-env.js";

// The session's own timers on a fake clock: the restart backoff after ffmpeg dies, and the scheduled
// start's lead time. ffmpeg is a stand-in script (a real process): each recording run prints one frame
// and its input's start, then exits 1 ("the camera went away"), at once or after `sleep`.
const silent = pino({ level: "silent" });
const EPOCH_MS = 1_795_570_800_000;

function standIn(dir: string, sleepS = 0): string {
  const file = path.join(dir, "ffmpeg-stand-in.sh");
  writeFileSync(
    file,
    `#!/bin/sh
case " $* " in *" tee "*) ;; *) exit 1 ;; esac
printf '#tb 0: 1/1000000\\n0, 0, 0, 33333, 100, 0x0\\n'
echo "  Duration: N/A, start: ${EPOCH_MS / 1000}.000000, bitrate: N/A" >&2
sleep ${sleepS}
exit 1
`,
  );
  chmodSync(file, 0o755);
  return file;
}

/** A spawn that counts recording runs (ffmpeg invoked with the tee muxer). */
function countingSpawn(): { spawn: SpawnFn; runs: () => number } {
  let runs = 0;
  return {
    spawn: (file, args, options) => {
      if (args.includes("tee")) runs++;
      return nodeSpawn(file, args, options);
    },
    runs: () => runs,
  };
}

/** Advances the fake clock in steps, letting real process I/O land in between. */
async function advance(timers: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await timers.advance(Math.min(step, ms - t));
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  // A guard on real process I/O (the stand-in's exit), not a measured time.
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

describe("session timers (fake clock)", () => {
  it("restart backoff: after ffmpeg dies the next run starts exactly the policy's delay later (0.5 s, then 1 s)", async () => {
    const dir = tempDir();
    const timers = new FakeClock(EPOCH_MS);
    const { spawn, runs } = countingSpawn();
    const events: string[] = [];
    const recording = cameraSession(
      {
        node: "T1",
        session: "backoff",
        sessionDir: path.join(dir, "backoff"),
        ffmpegPath: standIn(dir),
        launcher: [],
        capture: {
          camera: "synthetic",
          videoSize: "64x48",
          framerate: 30,
          inputFormat: "mjpeg",
          codec: "mjpeg",
          batchDuration: 1,
          duration: null,
          alignToUs: null,
        },
        startTimeoutMs: 5000,
        stopTimeoutMs: 1000,
        restartPolicy: { baseDelayMs: 500, maxDelayMs: 8000, maxFailures: 2, windowMs: 60_000 },
      },
      {
        log: silent,
        childEnv: testChildEnv,
        redact: (text: string) => text,
        announce: async () => {},
        syncStatus: () => ({ synced: false, reason: "test" }),
        event: (e) => events.push(e.type),
        spawn,
        clock: timers,
      },
    );
    await recording.start();
    assert.equal(runs(), 1);
    // The restart is timed once the dead run's partial batch is dealt with: its timer is then the only one.
    await until(() => events.includes("recorder_restarted") && timers.pending === 1, "the restart timed");
    await advance(timers, 450);
    assert.equal(runs(), 1, "no second run before 500 ms");
    await advance(timers, 50);
    await until(() => runs() === 2, "the second run at 500 ms");
    await until(
      () => events.filter((e) => e === "recorder_restarted").length === 2 && timers.pending === 1,
      "the second restart timed",
    );
    await advance(timers, 950);
    assert.equal(runs(), 2, "no third run before 1 s");
    await advance(timers, 50);
    await until(() => runs() === 3, "the third run at 1 s");
    // Three failures within the window, more than maxFailures 2: the session ends instead of looping.
    const result = await recording.done;
    assert.equal(result.reason, "failed");
    assert.equal(timers.pending, 0, "no timer left behind");
  });

  it("scheduled start: ffmpeg is spawned exactly the lead time (2 s) before `at`, not earlier; stop cancels", async () => {
    const dir = tempDir();
    const timers = new FakeClock(EPOCH_MS);
    const { spawn, runs } = countingSpawn();
    const config = loadConfig(["--sbc-id", "T2", "--data-dir", dir, "--disable-sync"], {});
    const states: NodeState[] = [];
    const events: Omit<NodeEvent, "node" | "at">[] = [];
    const controller = new SessionController(config, {
      createSession,
      log: silent,
      childEnv: testChildEnv,
      redact: (text: string) => text,
      ffmpegPath: standIn(dir, 30),
      launcher: [],
      publishState: (s) => states.push(s),
      publishEvent: (e) => events.push(e),
      announce: async () => {},
      syncStatus: () => ({ synced: false, reason: "test" }),
      spawn,
      freeBytes: async () => 100 * 1024 ** 3,
      clock: timers,
    });
    const at = new Date(EPOCH_MS + 10_000).toISOString();
    const reply = await controller.start({ session: "sched", at });
    assert.equal(reply.state, "scheduled");
    assert.equal(reply.scheduled_at, at);
    await timers.advance(7999);
    await settle();
    assert.equal(runs(), 0, "nothing spawned before at - 2 s");
    await timers.advance(1);
    await until(() => runs() === 1, "ffmpeg spawned at at - 2 s");
    assert.equal(controller.state.state, "scheduled", "still scheduled until the first frame at or after at");
    const stopped = controller.stop();
    await advance(timers, 3000);
    assert.equal((await stopped).state, "idle");
    assert.deepEqual(
      events.filter((e) => e.type === "recorder_failed"),
      [],
      "a cancelled schedule is no failure",
    );
  });
});
