import { existsSync, readdirSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { MANIFEST_NAME, readManifest } from "../data/manifest.js";
import { SESSION_END_FILE } from "../data/session-files.js";
import { readLedger } from "./upload-ledger.js";

// What is on disk but not yet verified in the store: every batch in a manifest, its sidecar, the
// manifest itself (again whenever it has grown) and, once the session has ended, session-end.json.
// Read from the manifests and the ledgers once, when the node starts (scanBacklog, before any session
// records); after that the node tells the uploader what it lists (listedFiles, endedFiles), and the
// queue lives in memory (upload-queue.ts).

export interface PendingFile {
  session: string;
  /** File name in the session folder. */
  name: string;
  /** Absolute path. */
  path: string;
  bytes: number;
  /** The manifest's sha256 for a batch; null: computed when uploaded. */
  sha256: string | null;
  /** The batch it is, or belongs to (its sidecar); null for the session's own files. */
  batch: BatchReady | null;
}

export interface Backlog {
  files: PendingFile[];
  bytes: number;
  /** End of the oldest batch waiting, or null. */
  oldest: string | null;
  sessions: Set<string>;
}

const base = (file: string): string => file.split("/").at(-1)!;

/** The pending files of one session folder, batches in order, each before the manifest that lists it. */
export function sessionBacklog(dataDir: string, session: string): PendingFile[] {
  const dir = path.join(dataDir, session);
  const manifestPath = path.join(dir, MANIFEST_NAME);
  if (!existsSync(manifestPath)) return [];
  const ledger = readLedger(dir);
  const out: PendingFile[] = [];
  const pending = (name: string, sha256: string | null, batch: BatchReady | null): void => {
    const file = path.join(dir, name);
    let bytes: number;
    try {
      bytes = statSync(file).size;
    } catch {
      return; // removed (retention of an uploaded session, or a sidecar never written)
    }
    const done = ledger.get(name);
    if (done && done.bytes === bytes && (sha256 === null || done.sha256 === sha256)) return;
    out.push({ session, name, path: file, bytes, sha256, batch });
  };
  const batches = readManifest(manifestPath);
  for (const b of batches) {
    pending(base(b.file), b.sha256, b);
    pending(base(b.frames_file), null, b);
  }
  if (batches.length > 0) pending(MANIFEST_NAME, null, null);
  pending(SESSION_END_FILE, null, null);
  return out;
}

/** Every session folder's pending files, oldest session first (the queue sums them up: upload-queue.ts). */
export function scanBacklog(dataDir: string, isSession: (name: string) => boolean): PendingFile[] {
  let names: string[];
  try {
    names = readdirSync(dataDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isSession(d.name))
      .map((d) => d.name);
  } catch {
    names = [];
  }
  const byAge = names
    .map((name) => ({ name, mtime: statSync(path.join(dataDir, name)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime);
  return byAge.flatMap(({ name }) => sessionBacklog(dataDir, name));
}

/** A file of a session folder as the backlog holds it; null when it is not there (never written, or removed). */
async function pendingFile(
  dataDir: string,
  session: string,
  name: string,
  sha256: string | null,
  batch: BatchReady | null,
): Promise<PendingFile | null> {
  const file = path.join(dataDir, session, name);
  const bytes = await stat(file).then(
    (s) => s.size,
    () => null,
  );
  return bytes === null ? null : { session, name, path: file, bytes, sha256, batch };
}

const present = (files: (PendingFile | null)[]): PendingFile[] => files.filter((f) => f !== null);

/** What a batch just listed adds: the batch, its sidecar, and the manifest that now lists it. */
export async function listedFiles(dataDir: string, batch: BatchReady): Promise<PendingFile[]> {
  const { session } = batch;
  return present([
    await pendingFile(dataDir, session, base(batch.file), batch.sha256, batch),
    await pendingFile(dataDir, session, base(batch.frames_file), null, batch),
    await pendingFile(dataDir, session, MANIFEST_NAME, null, null),
  ]);
}

/**
 * What a session's end adds: its final manifest and session-end.json; nothing for a session that
 * listed no batch (it has no manifest).
 */
export async function endedFiles(dataDir: string, session: string): Promise<PendingFile[]> {
  const manifest = await pendingFile(dataDir, session, MANIFEST_NAME, null, null);
  if (!manifest) return [];
  return present([manifest, await pendingFile(dataDir, session, SESSION_END_FILE, null, null)]);
}
