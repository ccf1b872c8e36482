import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import { redactUrl } from "../../platform/secrets.js";
import type { Timers } from "../../platform/timers.js";
import { listCameras, type CameraListing } from "../camera/cameras-command.js";
import { detectStreamFormat, type StreamLook } from "../camera/stream-format.js";
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
 */
export async function streamFormatFor(
  config: { camera: string; stream_format: string },
  log: Logger,
  timers: Timers,
  detect: DetectStreamFormat = (url) => detectStreamFormat(url, 1000, timers),
): Promise<{ streamFormat: string | null; lateHandover: boolean }> {
  if (config.stream_format || cameraKind(config.camera) !== "stream")
    return { streamFormat: config.stream_format || null, lateHandover: config.stream_format === "mpegts" };
  const look = await detect(config.camera);
  log.info(
    {
      camera: redactUrl(config.camera),
      format: look?.format ?? null,
      late_handover: look?.lateHandover ?? false,
    },
    look ? "camera format found" : "camera format left to ffmpeg",
  );
  return { streamFormat: look?.format ?? null, lateHandover: look?.lateHandover ?? false };
}

export type DetectStreamFormat = (url: string) => Promise<StreamLook | null>;
