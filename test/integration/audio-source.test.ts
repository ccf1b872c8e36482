// Audio as its own source: docs/examples/audio-sensor.py under --source command, recording ffmpeg's
// sine generator (this machine has no sound card: a real microphone is the same program with
// --device hw:N,M, ffmpeg's ALSA input instead of lavfi). Ground truth: the generator stamps sample n
// at its start + n / rate, `at` trims what comes before, and a pure sine obeys
// s[n+1] + s[n-1] = 2 cos(ω) s[n]: a sample lost or doubled at a batch boundary breaks it there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import { isoUs } from "../../align/session-reader.js";
import { readManifest } from "../../node/data/manifest.js";
import { uniqueBatches } from "../helpers/delivery.js";
import { sha256 } from "../helpers/media.js";
import { withNode } from "../helpers/harness.js";
import { ROOT } from "../helpers/node.js";

const RATE = 48_000;
const HZ = 440;

/** The 16-bit mono samples of a WAV file (its data chunk). */
function wavSamples(file: string): Int16Array {
  const b = readFileSync(file);
  let at = 12;
  while (at + 8 <= b.length) {
    const id = b.toString("ascii", at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === "data")
      return new Int16Array(b.buffer.slice(b.byteOffset + at + 8, b.byteOffset + at + 8 + size));
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

describe("--source command: a microphone beside the cameras", () => {
  it("batches of WAV from one `at`: sample-accurate starts, every sample once, the sine unbroken across batches", async (t) => {
    await withNode(
      {
        sbc_id: "MIC1",
        batch_duration: 2,
        source: "command",
        source_command: ["python3", path.join(ROOT, "docs", "examples", "audio-sensor.py"), "--synthetic"],
      },
      async ({ rec, run }) => {
        const atS = Math.ceil(Date.now() / 1000) + 4;
        const reply = await rec.command("labx", "MIC1", "MIC1", {
          cmd: "start",
          session: "mic",
          at: atS,
          duration: 5,
        });
        assert.equal(reply.ok, true, JSON.stringify(reply));
        await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>("labx/MIC1/event").find((e) => e.type === "session_ended"),
          40_000,
          "session ended",
        );
        const manifest = readManifest(path.join(run.dataDir, "mic", "manifest.jsonl"));
        assert.deepEqual(uniqueBatches(rec, "MIC1").batches, manifest);
        assert.equal(manifest.length, 3, "5 s in batches of 2 s");
        assert.equal(manifest.at(-1)!.last, true);
        const all: number[] = [];
        for (const [k, b] of manifest.entries()) {
          const file = path.join(run.dataDir, b.file);
          assert.match(b.file, /_\d{9}\.wav$/);
          assert.equal(sha256(file), b.sha256);
          const samples = wavSamples(file);
          assert.equal(b.frames, samples.length, `${b.file}: frames = its samples`);
          // Sample-accurate: the batch lasts its samples, and the next starts where it ends.
          assert.equal(isoUs(b.end) - isoUs(b.start), Math.round((samples.length * 1e6) / RATE));
          if (k > 0) assert.equal(b.start, manifest[k - 1]!.end, `batch ${k} starts where ${k - 1} ends`);
          // Cut on the session's grid, at the first 1 ms packet at or after each boundary.
          const late = isoUs(b.start) - (atS * 1e6 + k * 2e6);
          assert.ok(late >= 0 && late < 1000, `batch ${k} starts ${late} µs after its boundary`);
          const sidecar: string = readFileSync(path.join(run.dataDir, b.frames_file), "utf8");
          assert.equal(sidecar.trim().split("\n").length, 1, "a span: the sidecar lists no sample");
          all.push(...samples);
        }
        assert.equal(isoUs(manifest[0]!.start), atS * 1e6, "the first sample at `at`, to the µs");
        assert.equal(all.length, 5 * RATE, "every sample of the 5 s, once");
        const c = 2 * Math.cos((2 * Math.PI * HZ) / RATE);
        let worst = 0;
        for (let n = 1; n + 1 < all.length; n++)
          worst = Math.max(worst, Math.abs(all[n + 1]! + all[n - 1]! - c * all[n]!));
        t.diagnostic(`sine recurrence residual max ${worst.toFixed(2)} (16-bit rounding only: ≤ 3)`);
        assert.ok(worst <= 3, `the sine is unbroken across the batches (worst residual ${worst})`);
      },
    );
  });
});
