import { open, type FileHandle } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { BatchReady } from "../generated/payloads.js";

export const MANIFEST_NAME = "manifest.jsonl";

/**
 * The session's source of truth: one JSON line per batch, each fsync'ed before the batch is
 * announced, so anything announced is on disk even if the node dies the next instant.
 */
export class Manifest {
  private handle: FileHandle | null = null;

  constructor(readonly file: string) {}

  static inDir(sessionDir: string): Manifest {
    return new Manifest(path.join(sessionDir, MANIFEST_NAME));
  }

  async append(batch: BatchReady): Promise<void> {
    if (!this.handle) {
      this.handle = await open(this.file, "a");
      // Make the new file's directory entry durable too.
      const dir = await open(path.dirname(this.file), "r");
      await dir.sync().finally(() => dir.close());
    }
    await this.handle.appendFile(JSON.stringify(batch) + "\n");
    await this.handle.sync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}

export function readManifest(file: string): BatchReady[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as BatchReady);
}
