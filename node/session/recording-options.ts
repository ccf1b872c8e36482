// Pure: what a session's Recording is given, from the node's config and the start command; and the
// ffmpeg arguments of each of its runs.
import type { Config } from "../../platform/config/config.js";
import { buildFfmpegArgs } from "../ffmpeg/ffmpeg-args.js";
import { batchFilePattern } from "../store/paths.js";
import { DEFAULT_RESTART_POLICY } from "./restart-policy.js";
import type { RecordingOptions } from "./recording-types.js";

/** ffmpeg starts this long before `at`, so the camera delivers frames by then; earlier ones are dropped. */
export const SCHEDULE_LEAD_MS = 2000;

export interface SessionPlan {
  session: string;
  dir: string;
  batchDuration: number;
  duration: number | null;
  /** Epoch µs of a synchronized start (`at`), or null to start now. */
  alignToUs: number | null;
}

export function recordingOptions(
  config: Config,
  plan: SessionPlan,
  ffmpeg: { path: string; launcher: readonly string[] },
): RecordingOptions {
  return {
    node: config.sbc_id,
    session: plan.session,
    sessionDir: plan.dir,
    ffmpegPath: ffmpeg.path,
    launcher: ffmpeg.launcher,
    recorder: {
      camera: config.camera,
      videoSize: config.video_size,
      framerate: config.framerate,
      inputFormat: config.input_format,
      streamFormat: config.stream_format || null,
      codec: config.codec,
      batchDuration: plan.batchDuration,
      duration: plan.duration,
      alignToUs: plan.alignToUs,
    },
    // A scheduled start waits for its first frame at or after `at`, up to the lead time later.
    startTimeoutMs: config.start_timeout * 1000 + (plan.alignToUs ? SCHEDULE_LEAD_MS : 0),
    stopTimeoutMs: config.stop_timeout * 1000,
    restartPolicy: { ...DEFAULT_RESTART_POLICY, maxFailures: config.restart_attempts },
  };
}

/**
 * ffmpeg's arguments for run `index` of a session. A restarted run is not aligned (its `at` is past)
 * and records what is left of the duration, which counts wall-clock time from the first frame, gaps
 * included (`elapsedS`); it continues the numbering at `startNumber`.
 */
export function runArgs(o: RecordingOptions, index: number, elapsedS: number, startNumber: number): string[] {
  const total = o.recorder.duration;
  const remaining = total === null ? null : Math.max(0.1, total - elapsedS);
  return buildFfmpegArgs({
    ...o.recorder,
    ...(index > 0 ? { alignToUs: null, duration: remaining } : {}),
    startNumber,
    filePattern: batchFilePattern(o.node, o.session),
  });
}
