import type { Logger } from "pino";
import { isoMicros } from "../data/paths.js";
import type { NodeEvent } from "../../contract/generated/payloads.js";

/** An event of a session, before the controller adds node, session and time. */
export type SessionEvent = Omit<NodeEvent, "node" | "at" | "session">;

/** Pure: the `gap` event between the last frame on disk and the first frame of a restarted ffmpeg. */
export function gapEvent(fromUs: number, toUs: number, framesLost: number, what = "ffmpeg"): SessionEvent {
  return {
    type: "gap",
    level: "warning",
    message: `no recording from ${isoMicros(fromUs)} to ${isoMicros(toUs)} (${((toUs - fromUs) / 1e6).toFixed(3)} s, ${what} restarted)`,
    gap_start: isoMicros(fromUs),
    gap_end: isoMicros(toUs),
    gap_s: Math.round(toUs - fromUs) / 1e6,
    frames_lost: framesLost,
  };
}

/** Free space fell below --stop-free-mb: the session is stopped while its files can still be written. */
export function diskLowEvent(
  freeMb: number,
  dataDir: string,
  stopFreeMb: number,
  session: string | null,
): SessionEvent {
  return {
    type: "disk_low",
    level: "error",
    message: `${freeMb} MiB free in ${dataDir} (below ${stopFreeMb} MiB): session ${session} stopped`,
    free_mb: freeMb,
  };
}

/** The node could not write its own files (or ffmpeg its batches): the session ends, kept as it is. */
export function diskFullEvent(what: string): SessionEvent {
  return {
    type: "disk_low",
    level: "error",
    message: `disk full: ${what}; the session is stopped, every batch already listed is kept`,
    reason: "disk_full",
  };
}

/** ENOSPC, or a quota: no room left for what must be written. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Pure: the error a session ends with, if any: why ffmpeg (`what`) gave up, or the disk that filled. */
export function endError(
  reason: string,
  failures: number,
  lastError: string | null,
  diskFullError: string | null,
  what = "ffmpeg",
): string | undefined {
  if (reason !== "failed") return diskFullError ?? undefined;
  if (failures > 1) return `${what} failed ${failures} times, giving up: ${lastError}`;
  return lastError ?? `${what} failed`;
}

/** Pure: a copied stream's keyframes are further apart than a batch, so its batches are longer. */
export function keyframeIntervalEvent(intervalUs: number, batchDurationS: number): SessionEvent {
  const s = Math.round(intervalUs / 1000) / 1000;
  return {
    type: "keyframe_interval",
    level: "warning",
    message: `the camera's keyframes come ${s} s apart, more than a batch (${batchDurationS} s): a copied stream is cut only at keyframes, so batches last up to ${s} s; --codec h264 re-encodes with a keyframe at every boundary`,
    keyframe_interval_s: s,
  };
}

export function restartedEvent(why: string, delayMs: number, what = "ffmpeg"): SessionEvent {
  return {
    type: "recorder_restarted",
    level: "warning",
    message: `${what} stopped unexpectedly (${why}); restarting in ${delayMs} ms`,
    reason: why,
  };
}

/** Pure: the session failed for good (ffmpeg gave up): why, and how many batches it kept. */
export function failedEvent(session: string | null, batches: number, reason: string): SessionEvent {
  return {
    type: "recorder_failed",
    level: "error",
    message: `recording ${session} failed after ${batches} batches`,
    reason,
    batches,
  };
}

/** Pure: the session is over, how and with how many batches; an error when it ended in one. */
export function sessionEndedEvent(
  session: string | null,
  reason: string,
  batches: number,
  inError: boolean,
): SessionEvent {
  return {
    type: "session_ended",
    level: inError ? "error" : "info",
    message: `session ${session} ${reason} with ${batches} batches`,
    reason,
    batches,
  };
}

/** What the camera's stream deserves a warning for, each said once per session (log and event). */
export class StreamWarnings {
  private readonly said = new Set<string>();

  constructor(
    private readonly emit: (e: SessionEvent) => void,
    private readonly log: Logger,
  ) {}

  /** ffmpeg's time base for the camera is coarser than 1 ms. */
  coarseTimebase(message: string): void {
    this.once({ type: "coarse_timestamps", level: "warning", message });
  }

  /** Checked after each batch: keyframes further apart than a batch (a copied stream's cut points). */
  keyframes(maxIntervalUs: number, batchDurationS: number): void {
    if (maxIntervalUs > batchDurationS * 1e6) this.once(keyframeIntervalEvent(maxIntervalUs, batchDurationS));
  }

  private once(e: SessionEvent): void {
    if (this.said.has(e.type)) return;
    this.said.add(e.type);
    this.log.warn({ reason: e.message, event: e.type }, "camera stream warning");
    this.emit(e);
  }
}
