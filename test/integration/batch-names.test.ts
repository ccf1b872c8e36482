import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { batchFileName, batchFilePattern } from "../../node/data/paths.js";
import type { AssembledBatch } from "../../node/ffmpeg/batch-assembler.js";
import { buildFfmpegArgs } from "../../node/ffmpeg/ffmpeg-args.js";
import { FfmpegRun } from "../../node/ffmpeg/ffmpeg-run.js";
import { resolveLauncher } from "../../node/ffmpeg/launcher.js";
import { FFMPEG, tempDir } from "../helpers/node.js";
import { systemClock } from "../../platform/clock.js";

// A session 27.8 hours into 1 s batches: the real ffmpeg with the node's own arguments, started at
// batch 99 998 as a restarted run would be, crosses 99 999 → 100 000. Names must sort in batch order.
describe("batch names past 99 999 (real ffmpeg, the node's arguments)", () => {
  it("files of batches 99 998 to 100 001 sort in batch order, each named as the node expects", async () => {
    const dir = tempDir();
    const batches: AssembledBatch[] = [];
    const first = 99_998;
    const run = new FfmpegRun({
      index: 0,
      ffmpegPath: FFMPEG,
      args: buildFfmpegArgs({
        camera: "synthetic",
        videoSize: "160x120",
        framerate: 30,
        inputFormat: "mjpeg",
        codec: "auto",
        batchDuration: 1,
        duration: 3.5,
        filePattern: batchFilePattern("N", "long"),
        startNumber: first,
      }),
      sessionDir: dir,
      timelineFile: path.join(dir, "timeline.txt"),
      launcher: resolveLauncher().prefix,
      firstSeq: first,
      fileForSeq: (seq) => batchFileName("N", "long", seq),
      alignToUs: null,
      log: pino({ level: "silent" }),
      clock: systemClock(),
      onBatches: (b) => batches.push(...b),
      onFirstFrame: () => {},
      onCoarseTimebase: () => {},
    });
    try {
      run.start();
      assert.equal(await run.firstFrameWithin(15_000, 100), "frame");
      const exit = await run.ffmpeg.exited;
      assert.equal(exit.code, 0);
      batches.push(...run.assembler.finish());
    } finally {
      await run.ffmpeg.stop(2000);
    }
    const seqs = batches.map((b) => b.seq);
    assert.deepEqual(seqs, [99_998, 99_999, 100_000, 100_001]);
    const onDisk = readdirSync(dir).filter((f) => f.endsWith(".mkv"));
    assert.deepEqual(
      onDisk.sort(),
      batches.map((b) => b.file),
      "name order is batch order",
    );
    assert.deepEqual(
      batches.map((b) => b.file),
      seqs.map((s) => batchFileName("N", "long", s)),
    );
  });
});
