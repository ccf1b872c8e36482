import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import { redactUrl } from "../../platform/secrets.js";
import type { Clock } from "../../platform/clock.js";
import { listCameras, type CameraListing } from "../camera/cameras-cli.js";
import { detectStreamFormat, type LookResult } from "../camera/stream-format.js";
import { SessionError } from "./session-errors.js";
import type { InexactTimesError } from "./session-types.js";
import { cameraKind } from "../ffmpeg/ffmpeg-args.js";

// The camera a session records, settled at its start: `--camera auto` resolved to a V4L2 device (or
// the synthetic camera), and the format ffmpeg reads a network camera with.

export interface CameraPlan {
  camera: string;
  inputFormat: Config["input_format"];
  videoSize: string;
  framerate: number;
  /** The demuxer forced on a network camera (streamFormatFor), or null. */
  streamFormat: string | null;
  /** ffmpeg hands each frame over when the next begins (StreamLook.lateHandover). */
  lateHandover: boolean;
  /** labx connected to the camera before ffmpeg to learn its format (no --stream-format). */
  probed: boolean;
  /**
   * How long ffmpeg probes an MPEG-TS camera (µs): its keyframe interval remembered from its last
   * session plus a margin (camera-memory.ts); null or absent: ffmpeg's full 5 s.
   */
  probeUs?: number | null;
}

export type ListCameras = (want: { videoSize: string; framerate: number }) => Promise<CameraListing[]>;

/**
 * The configured camera; for `auto`, the first V4L2 camera with a format the node records, at the
 * capture `labx cameras` shows for it; with none, the synthetic camera, said in the log.
 */
export async function resolveCamera(
  config: Config,
  log: Logger,
  list: ListCameras = (want) => listCameras(want),
): Promise<Omit<CameraPlan, "streamFormat" | "lateHandover" | "probed">> {
  const configured = {
    camera: config.camera,
    inputFormat: config.input_format,
    videoSize: config.video_size,
    framerate: config.framerate,
  };
  if (config.camera !== "auto") return configured;
  const found = (await list({ videoSize: config.video_size, framerate: config.framerate })).find(
    (c) => c.choice,
  );
  if (!found?.choice) {
    log.warn("camera auto: no V4L2 camera found, recording the synthetic camera");
    return { ...configured, camera: "synthetic" };
  }
  const { inputFormat, videoSize, framerate } = found.choice;
  log.info(
    { camera: found.device, name: found.name, input_format: inputFormat, video_size: videoSize, framerate },
    "camera auto: chosen",
  );
  return { camera: found.device, ...found.choice };
}

/** Said with a network camera's failure when labx connected first to learn its format. */
export function probeHint(plan: CameraPlan | null): string {
  if (!plan?.probed) return "";
  return " (labx connected once before ffmpeg to learn the camera's format: a camera that serves a single connection needs --stream-format, e.g. mjpeg)";
}

/**
 * The demuxer ffmpeg reads the camera with: `--stream-format` when given; for a network camera, what
 * it serves (node/camera/stream-format.ts), so its frames keep µs arrival times; else ffmpeg's choice.
 * MPEG-TS forced by the flag is taken to have unbounded video PES, as ffmpeg's and GStreamer's are.
 * A camera silent for `camera_wait` s is refused (INEXACT_TIMES): ffmpeg's own probe would stamp its
 * frames on a coarse clock. `onWaiting` is told when the camera has been silent for half a second.
 */
export async function streamFormatFor(
  config: { camera: string; stream_format: string; camera_wait: number },
  log: Logger,
  clock: Clock,
  detect: DetectStreamFormat = (url, onWaiting) =>
    detectStreamFormat(url, { waitMs: config.camera_wait * 1000, lookMs: 1000, onWaiting }, clock),
  onWaiting: () => void = () => {},
): Promise<{ streamFormat: string | null; lateHandover: boolean }> {
  if (config.stream_format || cameraKind(config.camera) !== "stream")
    return { streamFormat: config.stream_format || null, lateHandover: config.stream_format === "mpegts" };
  const look = await detect(config.camera, onWaiting);
  const camera = redactUrl(config.camera);
  if (look === "silent")
    throw new SessionError(
      "inexact_times",
      `${camera} sent nothing within ${config.camera_wait} s of labx connecting (--camera-wait): without its format labx cannot give its frames exact times; nothing recorded`,
    );
  log.info(
    { camera, format: look?.format ?? null, late_handover: look?.lateHandover ?? false },
    look ? "camera format found" : "camera format left to ffmpeg",
  );
  return { streamFormat: look?.format ?? null, lateHandover: look?.lateHandover ?? false };
}

export type DetectStreamFormat = (url: string, onWaiting: () => void) => Promise<LookResult>;

/** ffmpeg's demuxers for MJPEG that count frames at 25 fps: their streams are read exactly as raw MJPEG. */
const FRAME_COUNTING_MJPEG = new Set(["jpeg_pipe", "mpjpeg", "image2pipe", "mjpeg_2000"]);

/**
 * The plan that reads the camera exactly after ffmpeg's own pick was refused (InexactTimesError), or
 * null: the format was the user's (--stream-format), or already raw MJPEG, or not MJPEG at all.
 */
export function exactPlan(
  config: Pick<Config, "stream_format">,
  plan: CameraPlan,
  err: InexactTimesError,
): CameraPlan | null {
  if (config.stream_format || plan.streamFormat === "mjpeg") return null;
  if (!err.demuxer || !FRAME_COUNTING_MJPEG.has(err.demuxer)) return null;
  return { ...plan, streamFormat: "mjpeg", lateHandover: false };
}
