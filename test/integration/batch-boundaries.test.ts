import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { BatchAssembler, type AssembledBatch } from "../../node/ffmpeg/batch-assembler.js";
import { buildFfmpegArgs, type Codec, type CameraArgs } from "../../node/ffmpeg/ffmpeg-args.js";
import { parseStdoutLine } from "../../node/ffmpeg/ffmpeg-output.js";
import { probeFfmpegCapabilities } from "../../node/ffmpeg/ffmpeg-capabilities.js";
import { countFrames } from "../helpers/media.js";

// Where a frame close to a batch boundary lands, against the times the test gave the frames. The
// node's own arguments run in real ffmpeg; only the synthetic camera's source is replaced by one whose
// frames carry the exact times below (no realtime pacing), so every case is deterministic.

const AT_US = 1_795_570_800_000_000;
const BATCH_US = 1_000_000;
/**
 * Frame times relative to `at` (µs). Boundary k (k s) gets one probe frame at k s + PROBES[k - 1], between
 * fillers 300 ms either side, so every batch holds frames and no two frames share a millisecond (which
 * Matroska cannot store; the stream path's bursts are spaced apart for that, see ffmpeg-args.ts).
 */
const PROBES = [-1000, -501, -500, -499, -1, 0, 1, 499, 500];
const OFFSETS = [
  0,
  ...PROBES.flatMap((d, i) => [
    (i + 1) * BATCH_US - 300_000,
    (i + 1) * BATCH_US + d,
    (i + 1) * BATCH_US + 300_000,
  ]),
];

function source(timesUs: number[]): string {
  const pts = timesUs.reduceRight((rest, t, n) => `if(eq(N\\,${n})\\,${t}\\,${rest})`, "0");
  return `testsrc2=size=64x48:rate=30,trim=end_frame=${timesUs.length},settb=1/1000000,setpts=${pts}`;
}

async function record(codec: Codec, aligned: boolean, timesUs: number[]): Promise<AssembledBatch[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "labx-bounds-"));
  try {
    const a: CameraArgs = {
      camera: "synthetic",
      videoSize: "64x48",
      framerate: 30,
      inputFormat: "mjpeg",
      codec,
      batchDuration: BATCH_US / 1e6,
      duration: null,
      filePattern: "B_%09d.mkv",
      alignToUs: aligned ? AT_US : null,
      // As the node finds it for the ffmpeg in use (ffmpeg-capabilities.ts).
      encTimeBase: (await probeFfmpegCapabilities("ffmpeg", process.env)).encTimeBase,
    };
    const args = buildFfmpegArgs(a);
    args[args.indexOf("-i") + 1] = source(timesUs);
    if (codec === "copy") {
      // A stream to copy: the same frames encoded once into NUT (µs time base), for lavfi's packets
      // cannot be copied (ffmpeg 7.1 hands them over as wrapped_avframe).
      const nut = path.join(dir, "source.nut");
      await promisify(execFile)("ffmpeg", [
        ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", source(timesUs)],
        ...[
          "-c:v",
          "mjpeg",
          "-enc_time_base",
          a.encTimeBase!,
          "-fps_mode",
          "passthrough",
          "-copyts",
          "-f",
          "nut",
          nut,
        ],
      ]);
      args[args.indexOf("lavfi")] = "nut";
      args[args.indexOf("-i") + 1] = nut;
    }
    const { stdout } = await promisify(execFile)("ffmpeg", args, { cwd: dir, maxBuffer: 1 << 24 });
    const assembler = new BatchAssembler((seq) => `B_${String(seq).padStart(9, "0")}.mkv`);
    const batches = stdout.split("\n").flatMap((l) => assembler.push(parseStdoutLine(l)));
    batches.push(...assembler.finish());
    // What the segmenter wrote, read back by ffprobe, is what the assembler says it wrote.
    for (const b of batches) assert.equal(countFrames(path.join(dir, b.file)), b.framePtsUs.length, b.file);
    return batches;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Batch k holds exactly the given frames at or after k s and before k + 1 s. */
function assertBatchedByTime(batches: AssembledBatch[], timesUs: number[], label: string): void {
  const expected = new Map<number, number[]>();
  for (const t of timesUs) {
    const k = Math.floor(t / BATCH_US);
    expected.set(k, [...(expected.get(k) ?? []), t]);
  }
  assert.deepEqual(
    batches.map((b) => b.framePtsUs),
    [...expected.keys()].sort((x, y) => x - y).map((k) => expected.get(k)),
    label,
  );
  for (let k = 1; k < batches.length; k++)
    assert.equal(
      batches[k - 1]!.endPtsUs,
      batches[k]!.framePtsUs[0],
      `${label}: batch ${k - 1} ends where ${k} starts`,
    );
}

describe("batch boundaries (real ffmpeg, frames at known times)", () => {
  for (const codec of ["mjpeg", "h264", "copy"] as const) {
    it(`${codec}, synchronized start: a frame belongs to the batch its time falls in, to the µs`, async () => {
      // Frames before `at` are dropped; the timeline's zero is `at`.
      const times = [-40_000, -3000, ...OFFSETS];
      const batches = await record(
        codec,
        true,
        times.map((t) => AT_US + t),
      );
      assertBatchedByTime(batches, OFFSETS, codec);
    });
  }

  it("mjpeg, synchronized start whose first frame comes 20 ms after at: boundaries still count from at", async () => {
    // As a camera delivers: its first frame after `at` is late by up to a frame period. ffmpeg 7.1's
    // segmenter counts its grid from the first timestamp it is given: the first frame is muxed at zero
    // (stream-timestamps.ts), else 7.1 cut every batch 20 ms late here.
    const offsets = OFFSETS.slice(1).filter((t) => t >= 20_000);
    const batches = await record(
      "mjpeg",
      true,
      [-3000, 20_000, ...offsets].map((t) => AT_US + t),
    );
    assertBatchedByTime(batches, [20_000, ...offsets], "late first frame");
  });

  it("mjpeg, immediate start: boundaries count from the first frame, to the µs", async () => {
    const batches = await record(
      "mjpeg",
      false,
      OFFSETS.map((t) => AT_US + 12_345 + t),
    );
    assertBatchedByTime(batches, OFFSETS, "immediate");
  });
});
