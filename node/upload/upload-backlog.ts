import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { MANIFEST_NAME, readManifest } from "../store/manifest.js";
import { SESSION_END_FILE } from "../store/session-files.js";
import { readLedger } from "./upload-ledger.js";

// What is on disk but not yet verified in the store, read from the manifests and the ledgers alone:
// every batch in a manifest, its sidecar, the manifest itself (again whenever it has grown) and, once
// the session has ended, session-end.json.

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

/** Every session folder's backlog, oldest session first. */
export function scanBacklog(dataDir: string, isSession: (name: string) => boolean): Backlog {
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
  const files = byAge.flatMap(({ name }) => sessionBacklog(dataDir, name));
  const oldest = files.find((f) => f.batch !== null)?.batch?.end ?? null;
  return {
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
    oldest,
    sessions: new Set(files.map((f) => f.session)),
  };
}
