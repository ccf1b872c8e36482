import { existsSync, readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";

// Durable JSON lines, the one way labx writes and reads its append-only records (manifest, outbox
// journal, attempts). A power cut or a full disk can tear the last line; the reader skips it, and the
// next append first ends it with a newline, so the torn line never swallows a good one.

export interface JsonLines<T> {
  items: T[];
  /** Lines that did not parse or were refused by the check: torn by a crash mid-write. */
  skipped: number;
}

const isObject = (v: unknown): boolean => v !== null && typeof v === "object" && !Array.isArray(v);

/** Pure: every line that parses as JSON and passes `accept` (default: an object); the others are counted. */
export function parseJsonLines<T>(
  text: string,
  accept: (v: unknown) => v is T = isObject as (v: unknown) => v is T,
): JsonLines<T> {
  const items: T[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v: unknown = JSON.parse(line);
      if (accept(v)) items.push(v);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { items, skipped };
}

/** A missing file is empty. */
export function readJsonLines<T>(file: string, accept?: (v: unknown) => v is T): JsonLines<T> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { items: [], skipped: 0 };
    throw err;
  }
  return parseJsonLines(text, accept);
}

/**
 * An append-only JSON-lines file kept open: each append is on disk (fsync) when it resolves; the
 * file's directory entry is fsync'ed when the file is created. Appends must not overlap (callers
 * chain them); a failed append (ENOSPC) rejects, and what was written before stays intact.
 */
export class JsonLinesFile {
  private handle: FileHandle | null = null;
  /** The last append failed part-way (ENOSPC): the file may end in a torn line. */
  private torn = false;

  constructor(readonly file: string) {}

  /** Appends already-serialized lines (each ending in "\n"). */
  async appendText(lines: string): Promise<void> {
    const h = (this.handle ??= await this.openForAppend());
    try {
      if (this.torn) await endTornLine(h);
      this.torn = false;
      await h.appendFile(lines);
      await h.sync();
    } catch (err) {
      this.torn = true;
      throw err;
    }
  }

  async append(...values: unknown[]): Promise<void> {
    return this.appendText(values.map((v) => JSON.stringify(v) + "\n").join(""));
  }

  /** Empties the file (e.g. a compacted journal). */
  async truncate(): Promise<void> {
    const h = (this.handle ??= await this.openForAppend());
    await h.truncate(0);
    await h.sync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  private async openForAppend(): Promise<FileHandle> {
    const created = !existsSync(this.file);
    const h = await open(this.file, "a+");
    try {
      await endTornLine(h);
      if (created) await syncDir(path.dirname(this.file));
      return h;
    } catch (err) {
      await h.close();
      throw err;
    }
  }
}

/** One durable append, the file opened and closed around it (for rare records such as attempts). */
export async function appendJsonLine(file: string, value: unknown): Promise<void> {
  const f = new JsonLinesFile(file);
  try {
    await f.append(value);
  } finally {
    await f.close();
  }
}

/** A line torn by a crash or a full disk: end it, so the next record starts on a line of its own. */
async function endTornLine(h: FileHandle): Promise<void> {
  const { size } = await h.stat();
  if (size === 0) return;
  const last = Buffer.alloc(1);
  await h.read(last, 0, 1, size - 1);
  if (last[0] !== 0x0a) await h.appendFile("\n");
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
