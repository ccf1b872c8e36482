import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { startFakeCamera } from "../helpers/fake-camera-process.js";
import { withNode } from "../helpers/harness.js";
import { assertPlayable } from "../helpers/media.js";

describe("a camera that stalls and then catches up", () => {
  it("keeps every frame of the burst: no ffmpeg death on frames stamped within one millisecond", async () => {
    // The fake camera holds 250 ms of frames, then sends them in one write: 8 frames whose arrival
    // stamps are µs apart (Matroska stores ms). Before the fix ffmpeg died here with "non
    // monotonically increasing dts" and the node restarted it, losing frames (bench/soak.ts found it).
    const camera = await startFakeCamera(30, { atFrame: 45, ms: 250 });
    try {
      await withNode(
        {
          sbc_id: "BURST",
          camera: camera.url,
          stream_format: "mjpeg",
          batch_duration: 1,
          disable_sync: true,
        },
        async ({ rec, run }) => {
          const r = await rec.command("labx", "BURST", "BURST", { cmd: "start", session: "b", duration: 5 });
          assert.equal(r.ok, true, JSON.stringify(r));
          const ended = await rec.waitFor(
            () => rec.jsonOn<NodeEvent>("labx/BURST/event").find((e) => e.type === "session_ended"),
            30_000,
            "session end",
          );
          assert.equal(ended.reason, "completed");
          const events = rec.jsonOn<NodeEvent>("labx/BURST/event").map((e) => e.type);
          assert.ok(!events.includes("recorder_restarted"), `no restart: ${events.join(", ")}`);
          assert.ok(!events.includes("gap"));

          const batches = rec.jsonOn<BatchReady>("labx/BURST/batch");
          for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
          const numbers = batches.flatMap((b) => {
            assertPlayable(path.join(run.dataDir, b.file));
            return frameNumbers(readFileSync(path.join(run.dataDir, b.file)));
          });
          // The burst happened while recording, and every frame the camera sent in between is on disk.
          const sent = camera.sent();
          const burst = [...sent.entries()].filter(([n]) => n >= 45 && sent.get(n) === sent.get(45));
          assert.ok(burst.length >= 5, `a burst of ${burst.length} frames sent at once`);
          assert.ok(numbers.includes(45), "the burst is inside the recording");
          for (let n = numbers[0]!; n <= numbers.at(-1)!; n++)
            assert.ok(numbers.includes(n), `frame ${n} recorded`);
          assert.equal(new Set(numbers).size, numbers.length, "no frame twice");

          // The per-frame times stay strictly increasing, at least 1 ms apart (the container's resolution).
          const epochs = batches.flatMap((b) =>
            readFileSync(path.join(run.dataDir, b.frames_file), "utf8")
              .trim()
              .split("\n")
              .slice(1)
              .map((l) => Number(l.split(",")[3])),
          );
          assert.equal(epochs.length, numbers.length);
          for (let i = 1; i < epochs.length; i++)
            assert.ok(epochs[i]! - epochs[i - 1]! >= 0.000999, `frame ${i}: ${epochs[i - 1]} → ${epochs[i]}`);
        },
      );
    } finally {
      camera.stop();
    }
  });
});
