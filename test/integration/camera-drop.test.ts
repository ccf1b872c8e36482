import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { isoUs } from "../../contract/iso-us.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { startFakeCamera, type FakeCamera } from "../helpers/fake-camera-process.js";
import { withNode } from "../helpers/harness.js";
import { countFrames } from "../helpers/media.js";

// A network camera that drops its connection mid-session and comes back (a camera rebooting, a Wi-Fi
// link lost for a while): the fake MJPEG camera closes its client at frame 90 and refuses connections
// for 2 s; frames due meanwhile go to no one (not in its log). The ground truth of what was lost is
// the log's hole.
const FPS = 30;
const PERIOD_US = 1e6 / FPS;

describe("a network camera that drops its connection and comes back", () => {
  it("ffmpeg restarts until it is back: every frame the camera sent kept, the gap's window exactly the outage, times exact", async () => {
    let camera: FakeCamera | undefined;
    try {
      camera = await startFakeCamera(FPS, undefined, "tcp", 0, { atFrame: 90, ms: 2000 });
      await withNode(
        { sbc_id: "DROP", camera: camera.url, batch_duration: 1, disable_sync: true },
        async ({ rec, run }) => {
          const r = await rec.command("labx", "DROP", "DROP", { cmd: "start", session: "d", duration: 8 });
          assert.equal(r.ok, true, JSON.stringify(r));
          const ended = await rec.waitFor(
            () => rec.jsonOn<NodeEvent>("labx/DROP/event").find((e) => e.type === "session_ended"),
            40_000,
            "end",
          );
          const events = rec.jsonOn<NodeEvent>("labx/DROP/event");
          assert.equal(ended.reason, "completed", JSON.stringify(events));
          assert.ok(
            events.some((e) => e.type === "recorder_restarted"),
            "ffmpeg restarted",
          );
          const gaps = events.filter((e) => e.type === "gap");
          assert.equal(gaps.length, 1, "one gap");
          const batches = rec.jsonOn<BatchReady>("labx/DROP/batch");
          assert.deepEqual(
            batches.map((b) => b.seq),
            batches.map((_, i) => i),
          );
          assert.equal(batches.at(-1)!.last, true);
          const sent = camera!.sent();
          const recorded: { n: number; us: number }[] = [];
          for (const b of batches) {
            const file = path.join(run.dataDir, b.file);
            const numbers = frameNumbers(readFileSync(file));
            assert.equal(numbers.length, b.frames);
            assert.equal(countFrames(file), b.frames);
            const times = readFileSync(path.join(run.dataDir, b.frames_file), "utf8")
              .trim()
              .split("\n")
              .slice(1)
              .map((row) => Math.round(Number(row.split(",")[3]) * 1e6));
            numbers.forEach((n, i) => recorded.push({ n, us: times[i]! }));
          }
          // Every frame the camera sent between the first and last recorded is in a batch: the ones it
          // never sent (down) are the only hole.
          const first = recorded[0]!.n;
          const last = recorded.at(-1)!.n;
          const kept = new Set(recorded.map((f) => f.n));
          const lostSent = [...sent.keys()].filter((n) => n >= first && n <= last && !kept.has(n));
          assert.deepEqual(lostSent, [], "no frame the camera sent is missing");
          for (const f of recorded)
            assert.ok(
              Math.abs(f.us - sent.get(f.n)!) < PERIOD_US,
              `frame ${f.n}: ${f.us - sent.get(f.n)!} µs`,
            );
          // The gap: from the end of the last frame before the drop to the first frame after it.
          const before = recorded.filter((f) => f.n < 90).at(-1)!;
          const after = recorded.find((f) => f.n >= 90)!;
          const gap = gaps[0]!;
          assert.ok(
            Math.abs(isoUs(gap.gap_start!) - (before.us + PERIOD_US)) < PERIOD_US,
            `gap_start ${isoUs(gap.gap_start!) - before.us} µs after the last frame before the drop`,
          );
          assert.equal(isoUs(gap.gap_end!), after.us, "gap_end is the first frame after");
          assert.ok(after.us - before.us >= 1.9e6, "the outage lasted the camera's 2 s");
          // Batches tile the session but at the gap.
          for (let i = 1; i < batches.length; i++)
            if (batches[i]!.start !== gap.gap_end) assert.equal(batches[i]!.start, batches[i - 1]!.end);
        },
      );
    } finally {
      camera?.stop();
    }
  });
});
