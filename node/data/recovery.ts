import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { MANIFEST_NAME, readManifest } from "./manifest.js";
import { batchFileName, sessionDir } from "./paths.js";
import {
  readAttempts,
  sessionEnded,
  TIMELINE_FILE,
  writeSessionEnd,
  type AttemptRecord,
} from "./session-files.js";
import { isName } from "../../contract/names.js";
import { BatchAssembler, type AssembledBatch } from "../ffmpeg/batch-assembler.js";
import { BatchFinalizer } from "./batch-finalizer.js";
import { parseStdoutLine } from "../ffmpeg/ffmpeg-output.js";
import { sleep, type Timers } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";

export interface RecoveryDeps {
  dataDir: string;
  node: string;
  ffmpegPath: string;
  childEnv: Readonly<Record<string, string>>;
  /** Every secret of the configuration out of a text (platform/secrets.ts): a program's kept output. */
  redact: (text: string) => string;
  log: Logger;
  announce: (batch: BatchReady) => Promise<void>;
  publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
  syncStatus: () => BatchReady["clock"];
  /** How long an ffmpeg left from the previous run may take to finish its files (it got SIGTERM). */
  settleMs?: number;
  clock: Clock;
}

/**
 * At start: finishes every session a previous run left without its session-end record (the node was
 * killed, lost power, or crashed). Batches ffmpeg wrote but the node never finalized are added to the
 * manifest, a partial one repaired and marked `recovered`; all are announced; the session is marked
 * ended ("interrupted"). Returns the sessions it finished.
 */
export function recoverSessions(deps: RecoveryDeps): Promise<string[]> {
  return recoverInterrupted(deps, {
    owns: (dir) => existsSync(path.join(dir, TIMELINE_FILE)),
    settle: (dir) => waitForOrphans(dir, deps.settleMs ?? 10_000, deps.clock),
    recover: recoverSession,
  });
}

/** One kind of session (ffmpeg's, a sensor program's: node/source/): which folders, and how. */
export interface SessionKind {
  /** The folder holds a session of this kind. */
  owns: (dir: string) => boolean;
  /** Waits for what the dead node left running to finish its files. */
  settle: (dir: string) => Promise<void>;
  recover: (deps: RecoveryDeps, session: string, dir: string) => Promise<void>;
}

/** Every session folder of `kind` without its session-end, recovered in name order. */
export async function recoverInterrupted(deps: RecoveryDeps, kind: SessionKind): Promise<string[]> {
  if (!existsSync(deps.dataDir)) return [];
  const done: string[] = [];
  for (const name of readdirSync(deps.dataDir).sort()) {
    if (!isName(name)) continue;
    const dir = sessionDir(deps.dataDir, name);
    if (!statSync(dir).isDirectory() || sessionEnded(dir) || !kind.owns(dir)) continue;
    await kind.settle(dir);
    try {
      await kind.recover(deps, name, dir);
      done.push(name);
    } catch (err) {
      // e.g. the disk is still full: the node starts anyway, and the next start tries again.
      deps.log.error({ err, session: name }, "interrupted session not recovered yet");
    }
  }
  return done;
}

/**
 * What recovering any interrupted session starts with: its manifest as it is, its last line announced
 * again (written just before the node died, its announcement maybe not journaled: a duplicate at worst,
 * same session and seq), and a finalizer that continues it, marking what it lists `recovered`.
 */
export async function resumeSession(
  deps: RecoveryDeps,
  session: string,
  dir: string,
  times: { timeSource?: BatchReady["time_source"]; latencyUs?: number },
): Promise<{ log: Logger; listed: BatchReady[]; finalizer: BatchFinalizer }> {
  const log = deps.log.child({ session });
  const manifestFile = path.join(dir, MANIFEST_NAME);
  const listed = existsSync(manifestFile) ? readManifest(manifestFile) : [];
  const lastListed = listed.at(-1);
  if (lastListed) await deps.announce(lastListed);
  const finalizer = new BatchFinalizer({
    node: deps.node,
    session,
    sessionDir: dir,
    ffmpegPath: deps.ffmpegPath,
    childEnv: deps.childEnv,
    framesBefore: listed.reduce((n, b) => n + b.frames, 0),
    recovering: true,
    log,
    announce: deps.announce,
    syncStatus: deps.syncStatus,
    ...(times.timeSource ? { timeSource: times.timeSource } : {}),
    latencyUs: times.latencyUs ?? 0,
  });
  return { log, listed, finalizer };
}

async function recoverSession(deps: RecoveryDeps, session: string, dir: string): Promise<void> {
  const attempts = readAttempts(dir);
  const { log, listed, finalizer } = await resumeSession(deps, session, dir, {
    ...(attempts[0]?.time_source ? { timeSource: attempts[0].time_source } : {}),
    latencyUs: attempts[0]?.latency_us ?? 0,
  });
  const lastSeq = Math.max(-1, ...listed.map((b) => b.seq));
  const missing = attempts.flatMap((a) =>
    replay(deps.node, session, dir, a)
      .filter((b) => b.seq > lastSeq)
      .map((batch) => ({ batch, anchorUs: a.anchor_us })),
  );
  // A final partial batch the kill left empty is dropped, and the one before it is marked last.
  const lastIndex = await finalizer.lastWithFrames(missing.map((m) => m.batch));
  let lost = 0;
  for (const [i, { batch, anchorUs }] of missing.entries()) {
    lost += (await finalizer.finalize(batch, anchorUs, i === lastIndex)).framesLost;
  }
  await finalizer.close();
  await endInterrupted(deps, log, {
    session,
    dir,
    recovered: finalizer.batches,
    listed: listed.length,
    lost,
  });
}

/** An interrupted session's end once its batches are recovered: session-end written, logged, said. */
export async function endInterrupted(
  deps: Pick<RecoveryDeps, "publishEvent" | "clock">,
  log: Logger,
  r: { session: string; dir: string; recovered: number; listed: number; lost: number },
): Promise<void> {
  const batches = r.listed + r.recovered;
  await writeSessionEnd(r.dir, {
    reason: "interrupted",
    batches,
    ended_at: new Date(deps.clock.now()).toISOString(),
  });
  log.warn({ recovered: r.recovered, batches, frames_lost: r.lost }, "interrupted session recovered");
  deps.publishEvent({
    type: "session_ended",
    level: "warning",
    session: r.session,
    message: `session ${r.session} was interrupted (the node stopped without finishing it): ${r.recovered} batches recovered at restart, ${batches} in all`,
    reason: "interrupted",
    batches,
    frames_lost: r.lost,
  });
}

/** Pure over one run's timeline file: the batches it shows, in order (the last one maybe unclosed). */
function replay(node: string, session: string, dir: string, a: AttemptRecord): AssembledBatch[] {
  const file = path.join(dir, path.basename(a.timeline));
  if (!existsSync(file)) return [];
  const assembler = new BatchAssembler(
    (seq) => batchFileName(node, session, seq),
    a.first_seq,
    a.mux_shift === "first_at_zero" || a.mux_shift === "after_first"
      ? a.mux_shift
      : a.mux_shift === true
        ? "all"
        : "none",
  );
  const out: AssembledBatch[] = [];
  for (const line of readFileSync(file, "utf8").split("\n"))
    out.push(...assembler.push(parseStdoutLine(line)));
  return [...out, ...assembler.finish()];
}

/** An ffmpeg of the dead node may still be finishing its files (the parent-death SIGTERM): wait for it. */
async function waitForOrphans(dir: string, timeoutMs: number, timers: Timers): Promise<void> {
  for (let waited = 0; processesIn(dir).length > 0 && waited < timeoutMs; waited += 100)
    await sleep(timers, 100);
}

function processesIn(dir: string): number[] {
  if (!existsSync("/proc")) return [];
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`) === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}
