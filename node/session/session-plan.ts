// Pure: what a session's Recording is given, from the node's config and the start command; and the
// ffmpeg arguments of each of its runs.
import type { Config } from "../../platform/config/config.js";
import { buildFfmpegArgs } from "../ffmpeg/ffmpeg-args.js";
import { batchFilePattern } from "../data/paths.js";
import { DEFAULT_RESTART_POLICY } from "./restart-policy.js";
import type { CameraOptions } from "./session-types.js";
import type { CameraPlan } from "./camera-plan.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";

/** ffmpeg starts this long before `at`, so the camera delivers frames by then; earlier ones are dropped. */
export const SCHEDULE_LEAD_MS = 2000;

export interface SessionPlan {
  session: string;
  dir: string;
  batchDuration: number;
  duration: number | null;
  /** Epoch µs of a synchronized start (`at`), or null to start now. */
  alignToUs: number | null;
  /** The camera it records, as settled at its start (camera-plan.ts). */
  camera: CameraPlan;
  /** The latency correction (µs) the session applies to its times (node/calibration/); 0: none. */
  latencyUs?: number;
}

export function cameraOptions(
  config: Config,
  plan: SessionPlan,
  ffmpeg: { path: string; launcher: readonly string[]; capabilities: FfmpegCapabilities },
): CameraOptions {
  return {
    node: config.sbc_id,
    session: plan.session,
    sessionDir: plan.dir,
    ffmpegPath: ffmpeg.path,
    launcher: ffmpeg.launcher,
    capture: {
      camera: plan.camera.camera,
      videoSize: plan.camera.videoSize,
      framerate: plan.camera.framerate,
      inputFormat: plan.camera.inputFormat,
      streamFormat: plan.camera.streamFormat,
      lateHandover: plan.camera.lateHandover,
      probeUs: plan.camera.probeUs ?? null,
      codec: config.codec,
      batchDuration: plan.batchDuration,
      duration: plan.duration,
      // With a latency correction, a synchronized start keeps the frames exposed from `at` on: those
      // stamped from `at` + latency (and the batch grid, on stamped times, moves with it).
      alignToUs: plan.alignToUs === null ? null : plan.alignToUs + (plan.latencyUs ?? 0),
      previewIntervalS: config.preview_interval,
      encTimeBase: ffmpeg.capabilities.encTimeBase,
    },
    // A scheduled start waits for its first frame at or after `at`, up to the lead time later.
    startTimeoutMs:
      config.start_timeout * 1000 + (plan.alignToUs ? SCHEDULE_LEAD_MS : 0) + (plan.latencyUs ?? 0) / 1000,
    stopTimeoutMs: config.stop_timeout * 1000,
    restartPolicy: { ...DEFAULT_RESTART_POLICY, maxFailures: config.restart_attempts },
    ...(plan.latencyUs ? { latencyUs: plan.latencyUs } : {}),
  };
}

/**
 * Where a restarted run's timeline starts: the session's last boundary at or before `nowUs`. The
 * session's boundaries are `zeroUs + k × batch_duration`, zero being `at` or the first frame read; a
 * restarted ffmpeg anchored there cuts on the same grid instead of starting one of its own.
 */
export function restartGrid(zeroUs: number, nowUs: number, batchDurationS: number): number {
  const d = Math.round(batchDurationS * 1e6);
  return zeroUs + Math.max(0, Math.floor((nowUs - zeroUs) / d)) * d;
}

/** A restarted run: the session's zero and the boundary its timeline starts at (restartGrid). */
export interface RestartAnchor {
  zeroUs: number;
  gridUs: number;
}

/**
 * A restarted run keeps the session's grid: zero is `at`, or the first run's timeline zero
 * (`gridZeroUs`: the first frame ffmpeg read).
 */
export function restartAnchor(o: CameraOptions, gridZeroUs: number | null, nowUs: number): RestartAnchor {
  const zeroUs = o.capture.alignToUs ?? gridZeroUs ?? nowUs;
  return { zeroUs, gridUs: restartGrid(zeroUs, nowUs, o.capture.batchDuration) };
}

/**
 * ffmpeg's arguments for one run of a session, numbering from `startNumber`. A restarted run is
 * anchored at its grid point and records until the session's own end (zero + duration), gaps included.
 */
export function runArgs(o: CameraOptions, startNumber: number, restart: RestartAnchor | null): string[] {
  const total = o.capture.duration;
  return buildFfmpegArgs({
    ...o.capture,
    ...(restart
      ? {
          alignToUs: restart.gridUs,
          duration:
            total === null ? null : Math.max(0.1, (restart.zeroUs + total * 1e6 - restart.gridUs) / 1e6),
        }
      : {}),
    startNumber,
    filePattern: batchFilePattern(o.node, o.session),
  });
}
