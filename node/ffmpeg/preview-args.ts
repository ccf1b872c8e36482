// Pure: the preview's share of ffmpeg's work. The recorder's ffmpeg writes, beside the batches, one
// frame it already has every few seconds (a tee slave, see ffmpeg-args.ts): no decoding, no second
// camera reader. A camera that sends JPEG frames gives one of them as it is; any other codec its
// keyframes, which the node's preview decoder (node/preview/preview-decoder.ts) makes a small JPEG of.
import type { Codec, CameraArgs } from "./ffmpeg-args.js";

/** The preview's folder in the data directory: a name no session can take (names have no '.'). */
export const PREVIEW_DIR = ".labx-preview";

export type PreviewKind = "jpeg" | "keyframe";

export interface PreviewOutput {
  kind: PreviewKind;
  /** JPEG frames: keep one in this many (the interval in frames at the nominal rate). */
  everyFrames: number;
}

/** What the batches' video packets are: JPEG frames, or a codec whose keyframes must be decoded. */
export function previewKind(
  a: Pick<CameraArgs, "inputFormat" | "streamFormat">,
  codec: Codec,
  camera: "synthetic" | "v4l2" | "stream",
): PreviewKind {
  if (codec === "mjpeg") return "jpeg";
  if (codec === "h264") return "keyframe";
  if (camera === "v4l2") return a.inputFormat === "mjpeg" ? "jpeg" : "keyframe";
  return a.streamFormat === "mjpeg" ? "jpeg" : "keyframe";
}

/** The file the slave keeps overwriting, relative to the session folder (ffmpeg's working directory). */
export function previewFile(kind: PreviewKind): string {
  return `../${PREVIEW_DIR}/${kind === "jpeg" ? "frame.jpg" : "keyframe.h264"}`;
}

/**
 * The tee slave: image2 overwriting one file atomically (a reader never sees half a frame), and
 * `onfail=ignore`, so a preview that cannot be written never stops the recording. The noise filter's
 * drop expression keeps packet n when n is a multiple of everyFrames (written without a comma, which
 * would need escaping twice), or every keyframe with its parameter sets in front (dump_extra).
 */
export function previewSlave(p: PreviewOutput): string {
  const n = Math.max(1, Math.round(p.everyFrames));
  const bsfs =
    p.kind === "jpeg" ? `noise=drop=n-${n}*floor(n/${n})` : "dump_extra=freq=keyframe,noise=drop=not(key)";
  return `[f=image2:update=1:atomic_writing=1:onfail=ignore:bsfs/v=${bsfs}]${previewFile(p.kind)}`;
}

/** What a preview decoder reads: JPEG frames, or keyframes of one of these codecs (Annex B). */
export type DecoderInput = "jpeg" | "h264" | "hevc";

/**
 * The codec of a kept keyframe, from its first NAL unit (dump_extra puts the parameter sets first):
 * an H.264 SPS (type 7) or an HEVC VPS/SPS (type 32/33); null for anything else.
 */
export function keyframeCodec(buf: Buffer): "h264" | "hevc" | null {
  const i = buf.indexOf(Buffer.from([0, 0, 1]));
  if (i < 0 || i + 3 >= buf.length) return null;
  const b = buf[i + 3]!;
  if ((b & 0x1f) === 7 || (b & 0x1f) === 9) return "h264";
  const hevc = (b >> 1) & 0x3f;
  if (hevc === 32 || hevc === 33 || hevc === 35) return "hevc";
  return null;
}

/** The lowres factor (0-3) that decodes a frame of this width no smaller than maxWidth. */
export function lowresFor(width: number, maxWidth: number): number {
  let r = 0;
  while (r < 3 && width / 2 ** (r + 1) >= maxWidth) r++;
  return r;
}

/**
 * A long-lived decoder for previews that need one (see preview-decoder.ts): frames in on stdin (raw
 * JPEG or H.264 with its parameter sets), small JPEGs out on stdout, one per frame in, in order. No
 * probing (the stream's first bytes tell the codec), one thread, timestamps passed through.
 */
export function previewDecoderArgs(input: DecoderInput, maxWidth: number, lowres: number): string[] {
  const kind = input === "jpeg" ? "jpeg" : "keyframe";
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-threads",
    "1",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-fflags",
    "nobuffer",
    "-flags",
    "low_delay",
    ...(kind === "jpeg" ? (lowres > 0 ? ["-lowres", String(lowres)] : []) : ["-skip_loop_filter", "all"]),
    // Frames piped in one by one carry no time of their own, and a frame of another size or pixel
    // format restarts the filters: each takes its arrival time, for ffmpeg 7.1's encoder refuses a frame
    // whose pts is not after the one before (5.1 took them).
    "-use_wallclock_as_timestamps",
    "1",
    "-f",
    input === "jpeg" ? "mjpeg" : input,
    "-i",
    "pipe:0",
    "-vf",
    `scale=min(${maxWidth}\\,iw):-2`,
    "-q:v",
    "7",
    "-fps_mode",
    "passthrough",
    // The encoder's clock in ms, fine enough to keep the arrival times apart (-r would make the output
    // constant-rate, which 7.1 refuses beside passthrough).
    "-enc_time_base",
    "1:1000",
    "-flush_packets",
    "1",
    "-f",
    "image2pipe",
    "-c:v",
    "mjpeg",
    "pipe:1",
  ];
}
