import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { BatchReady } from "../contract/generated/payloads.js";
import { parseJsonLines, readJsonLines } from "../platform/durable/jsonl.js";
import type { Validators } from "../contract/schemas.js";
import { ConfigError } from "../platform/config/config.js";
import { isoUs } from "../contract/iso-us.js";

// One node's share of a session, read from what the node left on disk: its manifest (the batches, their
// time source and clock), every batch's sidecar (each frame's time) and the attempts record (where
// ffmpeg was restarted: the gaps the node announced). Nothing here needs the node's code: a copy of
// the folder, fetched from the store, reads the same.

export interface FrameRow {
  /** Batch file, relative to the data directory (as in the manifest). */
  file: string;
  seq: number;
  /** From the session's first frame. */
  frame: number;
  batchFrame: number;
  epochUs: number;
  /** The time as first stamped, before a latency correction (the sidecar's raw_epoch_s); epochUs without one. */
  rawEpochUs: number;
}

export interface Gap {
  startUs: number;
  endUs: number;
}

export interface NodeSession {
  node: string;
  /** The session folder read. */
  dir: string;
  batches: BatchReady[];
  frames: FrameRow[];
  /** Between an ffmpeg run and the next (attempts.jsonl), as the node's gap events said. */
  announcedGaps: Gap[];
  timeSource: string;
  /** Manifest lines not read: invalid against schemas/batch.schema.json, or naming a file outside the session. */
  skipped: string[];
}

/**
 * A manifest's batches, each line checked against the batch schema and its files held to the session's
 * own folder (a copied or fetched manifest is data from elsewhere); what fails is skipped and said.
 */
export function readCheckedManifest(
  sessionDir: string,
  validators: Pick<Validators, "batch">,
): { batches: BatchReady[]; skipped: string[] } {
  const file = path.join(sessionDir, "manifest.jsonl");
  const session = path.basename(sessionDir);
  const skipped: string[] = [];
  const lines = parseJsonLines(readFileSync(file, "utf8"), (_v: unknown): _v is unknown => true);
  if (lines.skipped) skipped.push(`${file}: ${lines.skipped} line(s) not JSON`);
  const batches: BatchReady[] = [];
  lines.items.forEach((v, i) => {
    if (!validators.batch(v)) {
      const e = validators.batch.errors?.[0];
      return void skipped.push(
        `${file}: batch line ${i + 1}: ${e?.instancePath || "/"} ${e?.message ?? "invalid"}`,
      );
    }
    const outside = [v.file, v.frames_file].find((f) => !insideSession(f, session));
    if (outside !== undefined)
      return void skipped.push(
        `${file}: batch line ${i + 1}: ${JSON.stringify(outside)} is not a file of session ${session}`,
      );
    batches.push(v);
  });
  return { batches, skipped };
}

/** `<session>/<name>`, the name neither . nor ..: a path that stays in the session's folder. */
function insideSession(file: string, session: string): boolean {
  const [dir, name, ...more] = file.split("/");
  return more.length === 0 && dir === session && name !== undefined && name !== "." && name !== "..";
}

/** A sidecar's epoch_s text as µs, without float rounding. */
export function epochTextUs(text: string): number {
  const [sec, frac = "0"] = text.split(".") as [string, string?];
  return Number(sec) * 1e6 + Number(frac.padEnd(6, "0").slice(0, 6));
}

/**
 * Pure: a sidecar's rows (frame,batch_frame,pts_s,epoch_s,time_utc, and raw_epoch_s after a latency
 * correction: epoch_s is then the corrected time).
 */
export function parseSidecar(text: string, file: string, seq: number): FrameRow[] {
  const [header = "", ...lines] = text.trim().split("\n");
  const raw = header.split(",").indexOf("raw_epoch_s");
  return lines
    .filter((l) => l)
    .map((l) => {
      const cols = l.split(",");
      const epochUs = epochTextUs(cols[3]!);
      return {
        file,
        seq,
        frame: Number(cols[0]),
        batchFrame: Number(cols[1]),
        epochUs,
        rawEpochUs: raw > 0 && cols[raw] ? epochTextUs(cols[raw]!) : epochUs,
      };
    });
}

export { isoUs };

/** The session folder inside `folder` (a node's data directory), or `folder` itself if it is one. */
export function findSessionDir(folder: string, session: string): string | null {
  for (const dir of [path.join(folder, session), folder])
    if (existsSync(path.join(dir, "manifest.jsonl")) && path.basename(dir) === session) return dir;
  return null;
}

export function readNodeSession(sessionDir: string, validators: Pick<Validators, "batch">): NodeSession {
  const { batches, skipped } = readCheckedManifest(sessionDir, validators);
  batches.sort((a, b) => a.seq - b.seq);
  if (batches.length === 0) throw new Error(`${sessionDir}: the manifest lists no batch`);
  const dataDir = path.dirname(sessionDir);
  const frames = batches.flatMap((b) =>
    parseSidecar(readFileSync(path.join(dataDir, b.frames_file), "utf8"), b.file, b.seq),
  );
  const isAttempt = (v: unknown): v is { attempt: number; first_seq: number } =>
    typeof (v as { attempt?: unknown })?.attempt === "number";
  const attempts = readJsonLines(path.join(sessionDir, "attempts.jsonl"), isAttempt).items;
  const bySeq = new Map(batches.map((b) => [b.seq, b]));
  const announcedGaps = attempts
    .filter((a) => a.attempt > 0)
    .flatMap((a) => {
      const before = bySeq.get(a.first_seq - 1);
      const after = bySeq.get(a.first_seq);
      return before && after ? [{ startUs: isoUs(before.end), endUs: isoUs(after.start) }] : [];
    });
  return {
    node: batches[0]!.node,
    dir: sessionDir,
    batches,
    frames,
    announcedGaps,
    timeSource: batches[0]!.time_source ?? "unknown",
    skipped,
  };
}

/** Each node's share from its session folder, sorted by node; a node found twice is refused. */
export function readNodeSessions(
  dirs: readonly string[],
  validators: Pick<Validators, "batch">,
): NodeSession[] {
  const nodes = dirs.map((d) => readNodeSession(d, validators));
  const seen = new Map<string, string>();
  for (const n of nodes) {
    const other = seen.get(n.node);
    if (other !== undefined) throw new ConfigError(`node ${n.node} appears twice: ${other} and ${n.dir}`);
    seen.set(n.node, n.dir);
  }
  return nodes.sort((a, b) => a.node.localeCompare(b.node));
}
