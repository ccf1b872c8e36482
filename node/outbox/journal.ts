import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { JsonLinesFile, readJsonLines } from "../../platform/durable/jsonl.js";

/** One message the node owes the broker. `payload` is the exact text to publish. */
export interface JournalEntry {
  id: number;
  topic: string;
  payload: string;
  retain?: boolean;
  /** MQTT 5 Correlation Data (base64) for a reply sent to a Response Topic. */
  correlation?: string;
}

export const JOURNAL_FILE = "outbox.jsonl";
export const ACKS_FILE = "outbox.acks";

/**
 * The outbox on disk: an append-only journal of messages and a log of the ids the broker acknowledged.
 * Appends are group-committed (one fsync for everything queued meanwhile). Acks are not fsync'ed:
 * a lost ack only means the message is sent again, which the at-least-once guarantee allows.
 * Every file operation runs on one chain, so appends, acks and compaction never interleave.
 */
export class Journal {
  private readonly journal: JsonLinesFile;
  private acks: FileHandle | null = null;
  private chain: Promise<void> = Promise.resolve();
  private batch: string[] = [];
  private batchDone: Promise<void> | null = null;

  constructor(readonly dir: string) {
    this.journal = new JsonLinesFile(path.join(dir, JOURNAL_FILE));
  }

  /**
   * Reads what a previous run left, keeps only the unacknowledged entries (rewritten atomically)
   * and opens the files for appending. Returns the pending entries in id order and the next free id.
   */
  open(): { pending: JournalEntry[]; nextId: number } {
    mkdirSync(this.dir, { recursive: true });
    const journalPath = path.join(this.dir, JOURNAL_FILE);
    const acked = new Set(
      readLines(path.join(this.dir, ACKS_FILE))
        .map(Number)
        .filter((n) => Number.isInteger(n)),
    );
    // A line torn by a crash mid-write is skipped: it was never fsync'ed, so never acknowledged to anyone.
    const pending = readJsonLines(journalPath, isEntry)
      .items.filter((e) => !acked.has(e.id))
      .sort((a, b) => a.id - b.id);
    // Journal first (atomic rename), then the acks: a crash between leaves acks of ids no longer
    // pending, which is harmless; the other order could mark a reused id as acknowledged.
    const tmp = `${journalPath}.tmp`;
    writeFileSync(tmp, pending.map((e) => JSON.stringify(e) + "\n").join(""));
    syncFile(tmp);
    renameSync(tmp, journalPath);
    writeFileSync(path.join(this.dir, ACKS_FILE), "");
    syncFile(this.dir);
    // Above every id ever seen, acknowledged ones included, should a stale ack survive a crash.
    let nextId = 0;
    for (const id of [...acked, ...pending.map((e) => e.id)]) nextId = Math.max(nextId, id + 1);
    return { pending, nextId };
  }

  /** Resolves once the entry is on disk (fsync'ed). */
  append(entry: JournalEntry): Promise<void> {
    this.batch.push(JSON.stringify(entry) + "\n");
    this.batchDone ??= this.run(async () => {
      const lines = this.batch.join("");
      this.batch = [];
      this.batchDone = null;
      await this.journal.appendText(lines);
    });
    return this.batchDone;
  }

  ack(id: number): Promise<void> {
    return this.run(async () => {
      await (await this.acksHandle()).appendFile(`${id}\n`);
    });
  }

  /** Empties both files once nothing is pending: acks first, so no stale ack outlives its entry. */
  truncate(): Promise<void> {
    return this.run(async () => {
      await (await this.acksHandle()).truncate(0);
      await this.journal.truncate();
    });
  }

  /** Resolves once every file operation queued so far has run. */
  async settled(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.journal.close();
    await this.acks?.close();
    this.acks = null;
  }

  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async acksHandle(): Promise<FileHandle> {
    return (this.acks ??= await open(path.join(this.dir, ACKS_FILE), "a"));
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

function isEntry(v: unknown): v is JournalEntry {
  const e = v as Partial<JournalEntry> | null;
  return (
    e !== null &&
    typeof e === "object" &&
    Number.isInteger(e.id) &&
    typeof e.topic === "string" &&
    typeof e.payload === "string"
  );
}

function syncFile(file: string): void {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
