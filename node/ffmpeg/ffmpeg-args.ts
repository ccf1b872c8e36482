// Pure: builds ffmpeg's argument array (never a shell string) for one recording session.
//
// One ffmpeg writes through the tee muxer to two places:
// - the segment muxer: fixed-length batch files plus their list (file,start,end) on stdout;
// - framecrc: one line per frame (pts in µs, duration, size) on the same stdout.
// Sharing one pipe keeps ffmpeg's write order, so a batch's list entry always follows its last
// frame and precedes the next batch's first frame; see batch-assembler.ts.

import { redactUrl } from "../../platform/secrets.js";
import { previewKind, previewSlave } from "./preview-args.js";
import {
  copiedStreamFilters,
  PREVIOUS_ARRIVAL_FILTER,
  shiftBack,
  type StreamTimestamps,
} from "./stream-timestamps.js";

/**
 * Matroska writes a batch's frames in clusters of this many ms: a cluster reaches the file when a frame
 * more than CLUSTER_MS after its first arrives (ffmpeg's matroskaenc), the earlier ones with it.
 */
export const CLUSTER_MS = 200;
export type CameraKind = "synthetic" | "v4l2" | "stream";
export type Codec = "copy" | "mjpeg" | "h264";

export interface CameraArgs {
  camera: string;
  videoSize: string;
  framerate: number;
  inputFormat: "mjpeg" | "h264" | "yuyv422";
  /** Demuxer forced on a stream URL (-f), e.g. mjpeg: raw MJPEG with µs-fine arrival stamps. */
  streamFormat?: string | null;
  /**
   * ffmpeg hands each frame over only when the next begins to arrive (MPEG-TS with unbounded video
   * PES): each frame is stamped with the one before's arrival stamp, which is when it began to arrive.
   */
  lateHandover?: boolean;
  /** How long ffmpeg probes an MPEG-TS camera (µs, -analyzeduration); absent: its default 5 s. */
  probeUs?: number | null;
  codec: "auto" | Codec;
  batchDuration: number;
  duration: number | null;
  /** Batch file name pattern relative to ffmpeg's cwd, e.g. SBC001_exp01_%09d.mkv; safe characters only. */
  filePattern: string;
  /**
   * Synchronized start: epoch µs of `at` (a restarted run: the session's last boundary before it, see
   * session-plan.ts). Input timestamps (absolute wall-clock for every camera kind)
   * are shifted by -at and kept (-copyts), so the timeline's zero is `at`: frames before it are
   * dropped (-ss 0) and the segment muxer cuts at at + k × batchDuration on every node.
   */
  alignToUs?: number | null;
  /** Number of the first batch file: a restarted ffmpeg continues the session's numbering. */
  startNumber?: number;
  /** Keep a frame for the preview about this often (s; preview-args.ts); absent or 0: no preview. */
  previewIntervalS?: number;
  /** How this ffmpeg names "the input's time base" for an encoder (ffmpeg-capabilities.ts); absent: -1. */
  encTimeBase?: "demux" | "-1";
}

export function cameraKind(camera: string): CameraKind {
  if (camera === "synthetic") return "synthetic";
  if (camera.startsWith("/dev/")) return "v4l2";
  return "stream";
}

/** Where a camera kind's frame times come from (docs/time.md): the batch event's `time_source`. */
export function timeSourceOf(kind: CameraKind): "capture" | "arrival" | "synthetic" {
  return kind === "v4l2" ? "capture" : kind === "stream" ? "arrival" : "synthetic";
}

export function resolveCodec(
  kind: CameraKind,
  inputFormat: CameraArgs["inputFormat"],
  codec: CameraArgs["codec"],
): Codec {
  if (codec !== "auto") return codec;
  if (kind === "synthetic") return "mjpeg";
  if (kind === "v4l2") return inputFormat === "yuyv422" ? "mjpeg" : "copy";
  return "copy";
}

/** An MPEG-TS camera: `udp://` (what it carries, camera-plan.ts), or found or forced as mpegts. */
const mpegts = (a: CameraArgs): boolean => a.streamFormat === "mpegts" || a.camera.startsWith("udp:");

function inputArgs(a: CameraArgs, kind: CameraKind): string[] {
  switch (kind) {
    case "synthetic":
      // Frame N is stamped RTCSTART + N/rate: the wall-clock start of the graph (µs) plus an exact
      // frame grid, and realtime releases it at that pace. Stamping arrival time instead lets a busy
      // machine release frames in bursts whose stamps collide at the container's 1 ms resolution.
      return [
        // The frame rate is the graph's own: measuring it would hold the first frame back ~0.7 s
        // (the start reply waits for it). Frames then report 1 tick of duration; the assembler
        // measures it instead.
        "-fpsprobesize",
        "0",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=${a.videoSize}:rate=${a.framerate},settb=1/1000000,setpts=RTCSTART+N/(FRAME_RATE*TB),realtime`,
      ];
    case "v4l2":
      // mono2abs maps the kernel's monotonic capture timestamps to wall-clock time.
      return [
        "-f",
        "v4l2",
        "-input_format",
        a.inputFormat,
        "-video_size",
        a.videoSize,
        "-framerate",
        String(a.framerate),
        "-ts",
        "mono2abs",
        "-i",
        a.camera,
      ];
    case "stream":
      return [
        "-use_wallclock_as_timestamps",
        "1",
        // Stop probing as soon as the codec is known, rather than after ~0.8 s (RTSP) measuring a
        // frame rate labx never uses: every frame keeps its own arrival time, and the start reply
        // waits for the first frame (bench/time-accuracy.ts). Not for MPEG-TS: its demuxer may meet new
        // streams at any time, so ffmpeg probes it for the whole duration allowed, and a camera joined
        // between keyframes needs that long to show one (its SPS): ffmpeg's default 5 s is kept, or
        // the camera's keyframe interval as its last session measured it, plus a margin.
        "-fpsprobesize",
        "0",
        ...(!mpegts(a)
          ? ["-analyzeduration", "1"]
          : a.probeUs
            ? ["-analyzeduration", String(a.probeUs)]
            : []),
        ...(a.camera.startsWith("rtsp") ? ["-rtsp_transport", "tcp"] : []),
        ...(a.streamFormat ? ["-f", a.streamFormat] : []),
        "-i",
        a.camera,
      ];
  }
}

function codecArgs(
  codec: Codec,
  batchDuration: number,
  stream: StreamTimestamps,
  encTimeBase: "demux" | "-1",
): string[] {
  const filter = stream.lateHandover ? ["-vf", PREVIOUS_ARRIVAL_FILTER] : [];
  switch (codec) {
    case "copy":
      return [
        "-c:v",
        "copy",
        // Keep the demuxer's time base (µs for V4L2, 1/1200000 for raw MJPEG): by default ffmpeg gives a
        // copied stream the decoder's 1/framerate, which would quantize every time to a frame tick.
        "-copytb",
        "1",
        "-bsf:v",
        copiedStreamFilters(stream),
      ];
    case "mjpeg":
      // Every MJPEG frame is a keyframe, so any frame can open a batch.
      return [...filter, "-c:v", "mjpeg", "-q:v", "5", "-enc_time_base", encTimeBase, ...shiftBack];
    case "h264":
      return [
        ...filter,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-force_key_frames",
        `expr:gte(t,n_forced*${batchDuration})`,
        // SPS/PPS in the header of every batch file (the segment muxer needs them up front).
        "-flags",
        "+global_header",
        "-enc_time_base",
        encTimeBase,
        ...shiftBack,
      ];
  }
}

export function buildFfmpegArgs(a: CameraArgs): string[] {
  if (!/^[A-Za-z0-9_%-]+\.mkv$/.test(a.filePattern)) throw new Error(`unsafe file pattern ${a.filePattern}`);
  const kind = cameraKind(a.camera);
  const codec = resolveCodec(kind, a.inputFormat, a.codec);
  // Inside a tee slave's options ':' separates options, and the tee spec itself is unescaped once
  // more: hence two levels of escaping for the list's pipe, one for framecrc's.
  const segment = [
    "f=segment",
    // A batch writer that fails must end the recording loudly, not leave framecrc running alone.
    "onfail=abort",
    // The shifted first frame may fall before zero: made "non-negative", every timestamp the segmenter
    // decides on would move forward again (a frame 0.8 ms before a boundary then opened the next batch).
    "avoid_negative_ts=disabled",
    `segment_time=${a.batchDuration}`,
    ...(a.startNumber ? [`segment_start_number=${a.startNumber}`] : []),
    "reset_timestamps=1",
    "segment_format=matroska",
    // Frames reach the disk within ~200 ms instead of at the next 5 s/5 MB cluster: if ffmpeg or the
    // node is killed, the partial batch keeps all but the last few frames (recovery remuxes it).
    `segment_format_options=flush_packets=1\\\\:cluster_time_limit=${CLUSTER_MS}`,
    "segment_list_type=csv",
    "segment_list=pipe\\\\:1",
  ].join(":");
  return [
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "level+info",
    // A synchronized start: the timeline's zero is 1 µs before `at`, and -ss drops what comes before
    // 1 µs, then takes it off every timestamp: zero is `at`, and frames before it are dropped, as is a
    // frame without a timestamp of its own (ffmpeg then compares 0: an RTSP H.264 camera's first frame,
    // read while probing, 2 s early), which an -ss of 0 would keep.
    ...(a.alignToUs ? ["-itsoffset", `-${((a.alignToUs - 1) / 1e6).toFixed(6)}`] : []),
    ...inputArgs(a, kind),
    "-map",
    "0:v:0",
    ...codecArgs(
      codec,
      a.batchDuration,
      {
        lateHandover: a.lateHandover === true,
        // The raw mjpeg demuxer on an HTTP multipart camera leaves each part's headers in the packets.
        multipart: kind === "stream" && /^https?:/.test(a.camera) && a.streamFormat === "mjpeg",
      },
      a.encTimeBase ?? "-1",
    ),
    // Keep every captured frame with its own timestamp: no duplication or dropping to a fixed rate.
    "-fps_mode",
    "passthrough",
    ...(a.alignToUs ? ["-copyts", "-ss", "0.000001"] : []),
    ...(a.duration !== null ? ["-t", String(a.duration)] : []),
    "-f",
    "tee",
    [
      `[${segment}]${a.filePattern}`,
      "[f=framecrc:flush_packets=1]pipe\\:1",
      ...(a.previewIntervalS
        ? [
            previewSlave({
              kind: previewKind(a, codec, kind),
              everyFrames: a.framerate * a.previewIntervalS,
            }),
          ]
        : []),
    ].join("|"),
  ];
}

/** Credentials in URLs (rtsp://user:pass@host) replaced, for logs and the published state. */
/** For logs: arguments as one line, credentials in URLs replaced. */
export function displayArgs(args: readonly string[]): string {
  return args
    .map(redactUrl)
    .map((x) => (/^[\w@%+=:,./-]+$/.test(x) ? x : `'${x.replace(/'/g, "'\\''")}'`))
    .join(" ");
}
