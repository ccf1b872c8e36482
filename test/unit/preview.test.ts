import { test } from "node:test";
import assert from "node:assert/strict";
import { embedPreviewMeta, isJpeg, jpegSize, readPreviewMeta } from "../../contract/preview.js";
import {
  keyframeCodec,
  lowresFor,
  previewDecoderArgs,
  previewKind,
  previewSlave,
} from "../../node/ffmpeg/preview-args.js";
import { buildFfmpegArgs } from "../../node/ffmpeg/ffmpeg-args.js";
import { execFileSync } from "node:child_process";
import { testJpeg } from "../helpers/media.js";
import { createValidators } from "../../contract/schemas.js";

// A real JPEG from ffmpeg (not a hand-made byte string): 64×48, with ffmpeg's own comment segment.
const jpeg = testJpeg("64x48");

test("the preview metadata rides in a JPEG comment that ffmpeg still decodes", () => {
  const meta = {
    node: "N1",
    session: "s",
    taken_at: "2026-12-02T10:00:00.000Z",
    width: 64,
    height: 48,
    source: "frame" as const,
  };
  const out = embedPreviewMeta(jpeg, meta);
  assert.ok(isJpeg(out));
  assert.deepEqual(readPreviewMeta(out), meta);
  assert.ok(createValidators().preview(readPreviewMeta(out)));
  assert.deepEqual(jpegSize(out), { width: 64, height: 48 });
  const probe = execFileSync(
    "ffprobe",
    ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", "-i", "pipe:0"],
    { input: out },
  );
  assert.equal(probe.toString().trim(), "64,48");
  assert.equal(readPreviewMeta(jpeg), null, "no labx comment: no metadata");
  assert.equal(readPreviewMeta(Buffer.from("not a jpeg")), null);
  assert.equal(jpegSize(jpeg.subarray(0, 10)), null, "a truncated header gives no size");
  assert.throws(() => embedPreviewMeta(Buffer.from("png?"), meta), /not a JPEG/);
});

test("the preview's kind follows what the batches carry", () => {
  const a = { inputFormat: "mjpeg" as const, streamFormat: null };
  assert.equal(previewKind(a, "mjpeg", "synthetic"), "jpeg");
  assert.equal(previewKind(a, "h264", "v4l2"), "keyframe");
  assert.equal(previewKind(a, "copy", "v4l2"), "jpeg");
  assert.equal(previewKind({ ...a, inputFormat: "h264" }, "copy", "v4l2"), "keyframe");
  assert.equal(previewKind({ ...a, streamFormat: "mjpeg" }, "copy", "stream"), "jpeg");
  assert.equal(previewKind(a, "copy", "stream"), "keyframe", "RTSP, MPEG-TS: keyframes");
});

test("the tee slave keeps one frame in N, or every keyframe, and never fails the recording", () => {
  assert.equal(
    previewSlave({ kind: "jpeg", everyFrames: 150 }),
    "[f=image2:update=1:atomic_writing=1:onfail=ignore:bsfs/v=noise=drop=n-150*floor(n/150)]../.labx-preview/frame.jpg",
  );
  assert.match(
    previewSlave({ kind: "keyframe", everyFrames: 150 }),
    /dump_extra=freq=keyframe,noise=drop=not\(key\)\]\.\.\/\.labx-preview\/keyframe\.h264$/,
  );
  const base = {
    camera: "synthetic",
    videoSize: "640x480",
    framerate: 30,
    inputFormat: "mjpeg" as const,
    codec: "auto" as const,
    batchDuration: 10,
    duration: null,
    filePattern: "N_s_%09d.mkv",
  };
  const tee = (args: string[]): string => args[args.length - 1]!;
  assert.equal(tee(buildFfmpegArgs(base)).split("|").length, 2, "no preview: batches and timeline only");
  const withPreview = tee(buildFfmpegArgs({ ...base, previewIntervalS: 5 })).split("|");
  assert.equal(withPreview.length, 3);
  assert.match(withPreview[2]!, /n-150\*floor\(n\/150\)/, "5 s at 30 fps");
});

test("a large JPEG is decoded at the coarsest scale still as wide as the preview", () => {
  assert.equal(lowresFor(1920, 480), 2);
  assert.equal(lowresFor(640, 480), 0);
  assert.equal(lowresFor(4000, 100), 3);
  const jpegArgs = previewDecoderArgs("jpeg", 480, 2);
  assert.deepEqual(jpegArgs.slice(jpegArgs.indexOf("-lowres"), jpegArgs.indexOf("-lowres") + 2), [
    "-lowres",
    "2",
  ]);
  assert.equal(jpegArgs[jpegArgs.indexOf("-f") + 1], "mjpeg");
  const h264Args = previewDecoderArgs("h264", 480, 0);
  assert.ok(h264Args.includes("-skip_loop_filter") && !h264Args.includes("-lowres"));
  assert.equal(h264Args[h264Args.indexOf("-f") + 1], "h264");
});

test("a kept keyframe's codec is read from its first NAL unit", () => {
  const nal = (...bytes: number[]) => Buffer.from([0, 0, 0, 1, ...bytes, 0xaa]);
  assert.equal(keyframeCodec(nal(0x67)), "h264", "H.264 SPS");
  assert.equal(keyframeCodec(nal(0x09, 0xf0)), "h264", "H.264 access unit delimiter");
  assert.equal(keyframeCodec(nal(0x40, 0x01)), "hevc", "HEVC VPS");
  assert.equal(keyframeCodec(nal(0x42, 0x01)), "hevc", "HEVC SPS");
  assert.equal(keyframeCodec(Buffer.from("no start code")), null);
});
