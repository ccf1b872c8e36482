import type { Logger } from "pino";
import { existsSync } from "node:fs";
import path from "node:path";
import { writeSynced } from "../../platform/durable/durable-write.js";
import { appendJsonLine, readJsonLines } from "../../platform/durable/jsonl.js";

/**
 * Small durable records beside a session's batches, so a node that died can finish the session on
 * its next start: one line per ffmpeg run (where its timeline is and what its times count from),
 * and a file that says the session ended.
 */

export const ATTEMPTS_FILE = "attempts.jsonl";
export const SESSION_END_FILE = "session-end.json";

/** ffmpeg's stdout in the session folder: framecrc lines (every frame's time) and the batch list. */
export const TIMELINE_FILE = "ffmpeg-timeline.txt";

/** The first run writes ffmpeg-timeline.txt; a restarted one ffmpeg-timeline-<n>.txt. */
export function timelineFile(attempt: number): string {
  return attempt === 0 ? TIMELINE_FILE : `ffmpeg-timeline-${attempt}.txt`;
}

export interface AttemptRecord {
  attempt: number;
  /** This run's ffmpeg stdout (frames and closed batches), relative to the session folder. */
  timeline: string;
  /** Epoch µs that the run's pts count from. */
  anchor_us: number;
  /** Number of the run's first batch. */
  first_seq: number;
  /**
   * How the timeline's pts were muxed (batch-assembler.ts, MuxShift): "first_at_zero" now; all moved
   * back by MUX_SHIFT_EXPR (true, records before 2026-12-07) or none (absent, records older than that).
   */
  mux_shift?: boolean | "first_at_zero" | "after_first";
  /** Where the run's frame times come from (absent in older records). */
  time_source?: "capture" | "arrival" | "synthetic";
  /** The latency correction of the session's times, in µs (docs/time.md); absent: none. */
  latency_us?: number;
}

export interface SessionEnd {
  reason: string;
  batches: number;
  ended_at: string;
}

export function appendAttempt(sessionDir: string, rec: AttemptRecord): Promise<void> {
  return appendJsonLine(path.join(sessionDir, ATTEMPTS_FILE), rec);
}

function isAttempt(v: unknown): v is AttemptRecord {
  const a = v as Partial<AttemptRecord> | null;
  return (
    a !== null &&
    typeof a === "object" &&
    Number.isInteger(a.attempt) &&
    typeof a.timeline === "string" &&
    typeof a.anchor_us === "number" &&
    Number.isInteger(a.first_seq)
  );
}

/** Every run's record; a line torn by a crash mid-write is skipped. */
export function readAttempts(sessionDir: string): AttemptRecord[] {
  return readJsonLines(path.join(sessionDir, ATTEMPTS_FILE), isAttempt).items;
}

/**
 * A session's files closed: the manifest, then `session-end.json`, unless a batch is still unlisted
 * (recovery then lists it at the next start). Failures are logged: what is on disk stays as it is.
 */
export async function closeSession(
  manifest: { close(): Promise<void> },
  sessionDir: string,
  log: Logger,
  end: { reason: string; batches: number; endedAt: Date; unlisted: boolean },
): Promise<void> {
  await manifest.close().catch((err: unknown) => log.error({ err }, "manifest not closed"));
  if (end.unlisted) {
    log.warn("batches left unlisted: recovery lists them at the next start");
    return;
  }
  await writeSessionEnd(sessionDir, {
    reason: end.reason,
    batches: end.batches,
    ended_at: end.endedAt.toISOString(),
  }).catch((err: unknown) => log.error({ err }, "session end not recorded"));
}

export function writeSessionEnd(sessionDir: string, end: SessionEnd): Promise<void> {
  return writeSynced(path.join(sessionDir, SESSION_END_FILE), JSON.stringify(end) + "\n");
}

export function sessionEnded(sessionDir: string): boolean {
  return existsSync(path.join(sessionDir, SESSION_END_FILE));
}
