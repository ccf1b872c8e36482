import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeSynced } from "./durable-write.js";

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
}

export interface SessionEnd {
  reason: string;
  batches: number;
  ended_at: string;
}

export async function appendAttempt(sessionDir: string, rec: AttemptRecord): Promise<void> {
  await writeSynced(path.join(sessionDir, ATTEMPTS_FILE), JSON.stringify(rec) + "\n", "a");
}

export function readAttempts(sessionDir: string): AttemptRecord[] {
  const file = path.join(sessionDir, ATTEMPTS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l) => {
      try {
        return l.trim() ? [JSON.parse(l) as AttemptRecord] : [];
      } catch {
        return []; // torn by a crash mid-write
      }
    });
}

export function writeSessionEnd(sessionDir: string, end: SessionEnd): Promise<void> {
  return writeSynced(path.join(sessionDir, SESSION_END_FILE), JSON.stringify(end) + "\n");
}

export function sessionEnded(sessionDir: string): boolean {
  return existsSync(path.join(sessionDir, SESSION_END_FILE));
}
