import { existsSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";

/**
 * Small durable records beside a session's batches, so a node that died can finish the session on
 * its next start: one line per ffmpeg run (where its timeline is and what its times count from),
 * and a file that says the session ended.
 */

export const ATTEMPTS_FILE = "attempts.jsonl";
export const SESSION_END_FILE = "session-end.json";

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
  await appendSynced(path.join(sessionDir, ATTEMPTS_FILE), JSON.stringify(rec) + "\n");
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

export async function writeSessionEnd(sessionDir: string, end: SessionEnd): Promise<void> {
  const h = await open(path.join(sessionDir, SESSION_END_FILE), "w");
  try {
    await h.writeFile(JSON.stringify(end) + "\n");
    await h.sync();
  } finally {
    await h.close();
  }
}

export function sessionEnded(sessionDir: string): boolean {
  return existsSync(path.join(sessionDir, SESSION_END_FILE));
}

async function appendSynced(file: string, text: string): Promise<void> {
  const h = await open(file, "a");
  try {
    await h.appendFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
}
