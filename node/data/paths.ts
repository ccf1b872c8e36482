import path from "node:path";
import { isName } from "../../contract/names.js";

/**
 * The session's folder, refusing anything that could resolve outside the data directory. The
 * name pattern already excludes '/', '.' and NUL; the containment check is a second, independent wall.
 */
export function sessionDir(dataDir: string, session: string): string {
  if (!isName(session)) throw new Error(`invalid session name ${JSON.stringify(session)}`);
  const root = path.resolve(dataDir);
  const dir = path.resolve(root, session);
  if (path.dirname(dir) !== root) throw new Error(`session ${session} escapes the data directory`);
  return dir;
}

/**
 * Digits of a batch number in its file name, zero-padded so that names sort in batch order. Fixed per
 * session (ffmpeg's segment pattern is): 9 digits hold a billion batches, 31.7 years of the shortest
 * batches allowed (1 s), so no session outgrows them; 5 digits overflowed after 27.8 hours.
 */
export const BATCH_DIGITS = 9;

export function batchFilePattern(node: string, session: string): string {
  return `${node}_${session}_%0${BATCH_DIGITS}d.mkv`;
}

/** A batch's file name; `ext`: a sensor program's own format (node/source/), else Matroska. */
export function batchFileName(node: string, session: string, seq: number, ext = "mkv"): string {
  return `${node}_${session}_${String(seq).padStart(BATCH_DIGITS, "0")}.${ext}`;
}

/** A session name from the start time, e.g. 20261125T100030Z. */
export function generatedSessionName(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** ISO-8601 with microseconds, from epoch µs. */
export function isoMicros(value: number): string {
  const us = Math.round(value);
  const ms = Math.floor(us / 1000);
  const micros = Math.round(us - ms * 1000);
  return new Date(ms).toISOString().replace(/Z$/, `${String(micros).padStart(3, "0")}Z`);
}
