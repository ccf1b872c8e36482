import { existsSync, statSync } from "node:fs";
import { probeFor, type CameraMemory } from "../camera/camera-memory.js";
import path from "node:path";
import { MANIFEST_NAME } from "../data/manifest.js";
import { SessionError } from "./session-errors.js";
import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import { freeBytes } from "../../platform/disk/free-bytes.js";
import { cameraKind } from "../ffmpeg/ffmpeg-args.js";
import {
  resolveCamera,
  streamFormatFor,
  type CameraPlan,
  type DetectStreamFormat,
  type ListCameras,
} from "./camera-plan.js";
import type { Clock } from "../../platform/clock.js";

// What a start command must pass before anything is spawned: each check throws the SessionError that
// says why not (the command layer turns it into a reply code).

const MAX_SCHEDULE_AHEAD_MS = 24 * 3600 * 1000;

/** Pure: `at` (ISO-8601 or epoch seconds) as a Date, or null for an immediate start. */
export function scheduleFrom(at: string | number | undefined, now: Date): Date | null {
  if (at === undefined) return null;
  const when = typeof at === "number" ? new Date(at * 1000) : new Date(at);
  const ahead = when.getTime() - now.getTime();
  if (Number.isNaN(ahead)) throw new SessionError("bad_schedule", `at ${String(at)} is not a time`);
  if (ahead < 0) throw new SessionError("bad_schedule", `at ${when.toISOString()} is in the past`);
  if (ahead > MAX_SCHEDULE_AHEAD_MS)
    throw new SessionError("bad_schedule", `at ${when.toISOString()} is more than 24 h ahead`);
  return when;
}

/** A session name is used once per node: a folder with a manifest already holds its batches. */
export function checkSessionFree(dir: string, session: string, node: string): void {
  if (existsSync(path.join(dir, MANIFEST_NAME)))
    throw new SessionError("session_exists", `session ${session} already has batches on ${node}`);
}

export async function checkDisk(
  dataDir: string,
  minFreeMb: number,
  freeBytes: (dir: string) => Promise<number>,
): Promise<void> {
  const free = await freeBytes(dataDir);
  if (free < minFreeMb * 1024 * 1024)
    throw new SessionError(
      "disk_full",
      `${Math.floor(free / 1048576)} MiB free in ${dataDir}, need ${minFreeMb} MiB`,
    );
}

/** A V4L2 camera must be a character device now; other kinds are judged by ffmpeg's first frame. */
export function checkCamera(camera: string): void {
  if (cameraKind(camera) !== "v4l2") return;
  try {
    if (statSync(camera).isCharacterDevice()) return;
  } catch {
    // fall through
  }
  throw new SessionError("camera_unavailable", `${camera} is not a video device`);
}

/** A start that demands a synchronized clock gets one, or a refusal that says why not. */
export function checkClock(required: boolean, clock: { synced: boolean; reason?: string | undefined }): void {
  if (!required || clock.synced) return;
  throw new SessionError(
    "clock_unsynced",
    `the clock is not synchronized (${clock.reason ?? "no reason given"}): not recording, as require_sync asks`,
  );
}

/**
 * Every check of a start, in order (session name free, disk, camera device, clock), and the camera
 * it records: `--camera auto` resolved, and the format ffmpeg reads a network camera with.
 * Throws the first SessionError that applies.
 */
export async function preflight(
  config: Config,
  deps: {
    log: Logger;
    clock: Clock;
    syncStatus: () => { synced: boolean; reason?: string | undefined };
    freeBytes?: ((dir: string) => Promise<number>) | undefined;
    detectStreamFormat?: DetectStreamFormat | undefined;
    listCameras?: ListCameras | undefined;
    /** The network camera has said nothing yet: the start waits for it, up to --camera-wait. */
    onCameraWait?: () => void;
    /** MPEG-TS cameras' keyframe intervals from their last sessions (node/camera/camera-memory.ts). */
    cameraMemory?: CameraMemory | undefined;
  },
  start: { dir: string; session: string; requireSync: boolean | undefined },
): Promise<CameraPlan> {
  checkSessionFree(start.dir, start.session, config.sbc_id);
  await checkDisk(config.data_dir, config.min_free_mb, deps.freeBytes ?? freeBytes);
  if (config.source === "command") {
    checkClock(start.requireSync ?? config.require_sync, deps.syncStatus());
    return commandPlan(config);
  }
  const camera = await resolveCamera(config, deps.log, deps.listCameras);
  checkCamera(camera.camera);
  checkClock(start.requireSync ?? config.require_sync, deps.syncStatus());
  const stream = await streamFormatFor(
    { camera: camera.camera, stream_format: config.stream_format, camera_wait: config.camera_wait },
    deps.log,
    deps.clock,
    deps.detectStreamFormat,
    deps.onCameraWait,
  );
  const mpegts = stream.streamFormat === "mpegts" || camera.camera.startsWith("udp:");
  const remembered = mpegts ? ((await deps.cameraMemory?.keyframeIntervalUs(camera.camera)) ?? null) : null;
  return {
    ...camera,
    ...stream,
    probed: !config.stream_format && /^(https?|tcp):/.test(camera.camera),
    probeUs: probeFor(remembered),
  };
}

/** A sensor program's session (--source command): named in the state as `command:<program>`. */
export function commandPlan(config: Config): CameraPlan {
  return {
    camera: `command:${path.basename(config.source_command[0] ?? "")}`,
    inputFormat: config.input_format,
    videoSize: config.video_size,
    framerate: config.framerate,
    streamFormat: null,
    lateHandover: false,
    probed: false,
  };
}
