import { existsSync } from "node:fs";
import { lstat, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BatchFinalizer } from "../data/batch-finalizer.js";
import { batchFileName } from "../data/paths.js";
import { batchEndUs, batchExtension, parseSampleTimes } from "./program-protocol.js";

// One batch a sensor program said it closed (program-protocol.ts), made a listed batch: its times read,
// its file moved to labx's name, listed by the session's finalizer, its times file removed. The same
// steps for a running session (program-source.ts) and at recovery (program-recovery.ts).

/** Where the program writes, inside the session folder; what labx lists is moved out of it. */
export const OUT_DIR = "incoming";

/** The program's stdout, kept in the session folder: `source-output.txt`, then `-1`, `-2`… per restart. */
export const sourceOutputFile = (run: number): string => `source-output${run ? `-${run}` : ""}.txt`;

export interface SaidBatch {
  file: string;
  times: string;
  endUs: number | null;
}

export interface ListedTimes {
  startUs: number;
  endUs: number;
  samples: number;
}

/**
 * Lists `b` as batch `seq`. `moved`: the file already has labx's name (a node that died between the
 * move and the manifest line). Throws what went wrong, the files left where they were.
 */
export async function listProgramBatch(
  s: { node: string; session: string; sessionDir: string; finalizer: BatchFinalizer },
  b: SaidBatch,
  seq: number,
  last: boolean,
  o: {
    moved?: boolean;
    beforeListing?: (t: ListedTimes) => void;
    /**
     * Where the batch before it ended, when this one continues it (same run of the program, no gap):
     * batches tile the session, so this one starts there (its samples keep their own times in the
     * sidecar), as a camera batch starts where the one before ended. Not when its first sample is earlier.
     */
    continuesUs?: number | null;
  } = {},
): Promise<ListedTimes> {
  const out = path.join(s.sessionDir, OUT_DIR);
  // Regular files only: a link the program left there would have labx hash, list and upload what it points at.
  for (const name of o.moved ? [b.times] : [b.file, b.times]) await assertRegularFile(path.join(out, name));
  const times = parseSampleTimes(await readFile(path.join(out, b.times), "utf8"));
  const file = batchFileName(s.node, s.session, seq, batchExtension(b.file));
  if (!o.moved) await rename(path.join(out, b.file), path.join(s.sessionDir, file));
  const samplesUs = times.kind === "samples" ? times.samplesUs : [];
  const firstUs = times.kind === "samples" ? samplesUs[0]! : times.startUs;
  const startUs = o.continuesUs != null && o.continuesUs <= firstUs ? o.continuesUs : firstUs;
  const endUs = times.kind === "samples" ? batchEndUs(samplesUs, b.endUs) : times.endUs;
  const samples = times.kind === "span" ? times.samples : samplesUs.length;
  o.beforeListing?.({ startUs, endUs, samples });
  await s.finalizer.finalizeTimes({ seq, file, samplesUs, startUs, endUs, samples, last });
  await rm(path.join(out, b.times), { force: true });
  return { startUs, endUs, samples };
}

/** Rewrites the program's kept output `file` without its secrets (whole or not at all), when it holds any. */
export async function redactFile(file: string, redact: (text: string) => string): Promise<void> {
  const text = await readFile(file, "utf8");
  const clean = redact(text);
  if (clean === text) return;
  await writeFile(`${file}.tmp`, clean, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export class NotARegularFileError extends Error {}

/** Throws NotARegularFileError for a symbolic link, a folder, a device or a pipe (never followed). */
export async function assertRegularFile(file: string): Promise<void> {
  const st = await lstat(file);
  if (!st.isFile())
    throw new NotARegularFileError(
      `${file} is not a regular file (${st.isSymbolicLink() ? "a symbolic link" : "not a file"}): not listed`,
    );
}

/** Whether a said batch is still the program's (not yet moved), moved but not listed, or done. */
export function saidBatchStatus(
  s: { node: string; session: string; sessionDir: string },
  b: SaidBatch,
  nextSeq: number,
): "unmoved" | "moved" | "done" {
  const out = path.join(s.sessionDir, OUT_DIR);
  if (existsSync(path.join(out, b.file))) return "unmoved";
  if (!existsSync(path.join(out, b.times))) return "done";
  const labxFile = batchFileName(s.node, s.session, nextSeq, batchExtension(b.file));
  return existsSync(path.join(s.sessionDir, labxFile)) ? "moved" : "done";
}
