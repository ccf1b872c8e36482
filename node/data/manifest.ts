import path from "node:path";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { JsonLinesFile, readJsonLines, type JsonLines } from "../../platform/durable/jsonl.js";

export const MANIFEST_NAME = "manifest.jsonl";

/**
 * The session's source of truth: one JSON line per batch, each fsync'ed before the batch is
 * announced, so anything announced is on disk even if the node dies the next instant.
 */
export class Manifest {
  private readonly lines: JsonLinesFile;

  constructor(readonly file: string) {
    this.lines = new JsonLinesFile(file);
  }

  static inDir(sessionDir: string): Manifest {
    return new Manifest(path.join(sessionDir, MANIFEST_NAME));
  }

  append(batch: BatchReady): Promise<void> {
    return this.lines.append(batch);
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}

function isBatchLine(v: unknown): v is BatchReady {
  const b = v as Partial<BatchReady> | null;
  return b !== null && typeof b === "object" && Number.isInteger(b.seq) && typeof b.file === "string";
}

/** The manifest's batches, a line torn by a power cut or a full disk skipped (and counted). */
export function readManifestLines(file: string): JsonLines<BatchReady> {
  return readJsonLines(file, isBatchLine);
}

export function readManifest(file: string): BatchReady[] {
  return readManifestLines(file).items;
}
