// Pure: the preview's share of ffmpeg's work. The recorder's ffmpeg writes, beside the batches, one
// frame it already has every few seconds (a tee slave, see ffmpeg-args.ts): no decoding, no second
// camera reader. A camera that sends JPEG frames gives one of them as it is; any other codec its
// keyframes, which previewConvertArgs decodes into a small JPEG when the node takes one.
import type { Codec, RecorderArgs } from "./ffmpeg-args.js";

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
  a: Pick<RecorderArgs, "inputFormat" | "streamFormat">,
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

/**
 * One small JPEG from the kept frame: decoded at 1/2^lowres of its size where the codec allows it
 * (JPEG), one thread, scaled to at most maxWidth, to stdout.
 */
export function previewConvertArgs(
  input: string,
  kind: PreviewKind,
  maxWidth: number,
  lowres: number,
): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-threads",
    "1",
    ...(kind === "jpeg" && lowres > 0 ? ["-lowres", String(lowres)] : []),
    ...(kind === "keyframe" ? ["-skip_loop_filter", "all"] : []),
    "-i",
    input,
    "-frames:v",
    "1",
    "-vf",
    `scale=min(${maxWidth}\\,iw):-2`,
    "-q:v",
    "7",
    "-f",
    "mjpeg",
    "pipe:1",
  ];
}

/** The lowres factor (0-3) that decodes a frame of this width no smaller than maxWidth. */
export function lowresFor(width: number, maxWidth: number): number {
  let r = 0;
  while (r < 3 && width / 2 ** (r + 1) >= maxWidth) r++;
  return r;
}
