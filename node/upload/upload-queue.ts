import type { Backlog, PendingFile } from "./upload-backlog.js";

const key = (f: Pick<PendingFile, "session" | "name">): string => `${f.session}/${f.name}`;

/**
 * The uploader's backlog, in memory: read from disk once at start (upload-backlog.ts), then told of
 * each file as the node lists it. In order, oldest first; a file queued again while it waits (a
 * session's manifest, which grows with each batch) moves to the end, so it follows what it lists.
 */
export class UploadQueue {
  private readonly files = new Map<string, PendingFile>();

  constructor(initial: readonly PendingFile[] = []) {
    this.add(initial);
  }

  add(files: readonly PendingFile[]): void {
    for (const f of files) {
      this.files.delete(key(f));
      this.files.set(key(f), f);
    }
  }

  /** The next file to upload. */
  first(): PendingFile | undefined {
    return this.files.values().next().value;
  }

  /** `f` is verified in the store; a newer copy queued meanwhile (a grown manifest) stays. */
  done(f: PendingFile): void {
    if (this.files.get(key(f)) === f) this.files.delete(key(f));
  }

  get length(): number {
    return this.files.size;
  }

  /** Sessions with a file not yet verified in the store: retention keeps them. */
  get sessions(): Set<string> {
    return new Set([...this.files.values()].map((f) => f.session));
  }

  backlog(): Backlog {
    const files = [...this.files.values()];
    return {
      files,
      bytes: files.reduce((s, f) => s + f.bytes, 0),
      oldest: files.find((f) => f.batch !== null)?.batch?.end ?? null,
      sessions: this.sessions,
    };
  }
}
