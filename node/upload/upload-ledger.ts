import path from "node:path";
import { appendJsonLine, readJsonLines } from "../../platform/durable/jsonl.js";

// The durable half of the upload queue: per session, `uploads.jsonl` lists every file verified in the
// store. What the manifest (and the session's folder) holds beyond it is the backlog, so the queue
// survives restarts and kill -9 with nothing else on disk: a line is written only after the store
// confirmed the object (its size and sha256).

export const LEDGER_NAME = "uploads.jsonl";

export interface LedgerEntry {
  /** File name in the session folder. */
  file: string;
  key: string;
  bytes: number;
  sha256: string;
  verified_at: string;
}

const isEntry = (v: unknown): v is LedgerEntry => {
  const e = v as LedgerEntry;
  return typeof e === "object" && e !== null && typeof e.file === "string" && typeof e.bytes === "number";
};

/** file → its last verified upload (a manifest is uploaded again as it grows). */
export function readLedger(sessionDir: string): Map<string, LedgerEntry> {
  const map = new Map<string, LedgerEntry>();
  for (const e of readJsonLines(path.join(sessionDir, LEDGER_NAME), isEntry).items) map.set(e.file, e);
  return map;
}

export function appendLedger(sessionDir: string, entry: LedgerEntry): Promise<void> {
  return appendJsonLine(path.join(sessionDir, LEDGER_NAME), entry);
}
