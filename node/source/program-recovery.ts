import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isoUs } from "../../contract/iso-us.js";
import { endInterrupted, recoverInterrupted, resumeSession, type RecoveryDeps } from "../data/recovery.js";
import { TIMELINE_FILE } from "../data/session-files.js";
import { sleep } from "../../platform/timers.js";
import { parseProgramLine } from "./program-protocol.js";
import {
  listProgramBatch,
  OUT_DIR,
  redactFile,
  saidBatchStatus,
  sourceOutputFile,
  type SaidBatch,
} from "./program-batch.js";

/**
 * At start: finishes every sensor-program session (--source command) a previous run left without its
 * session-end. The program got SIGTERM with the node's death (the launcher): it closes its batch and
 * says it on its stdout, kept in the session folder. Every batch it said and that is not in the manifest
 * is listed now (marked `recovered`), in order; files it wrote but never said (killed mid-batch) stay in
 * incoming/, named in the log. Returns the sessions it finished.
 */
export function recoverProgramSessions(deps: RecoveryDeps): Promise<string[]> {
  return recoverInterrupted(deps, {
    owns: (dir) =>
      !existsSync(path.join(dir, TIMELINE_FILE)) && existsSync(path.join(dir, sourceOutputFile(0))),
    settle: (dir) => waitForPrograms(path.join(dir, OUT_DIR), deps),
    recover: recoverSession,
  });
}

/** Every batch line of every run of the session, in order, with the run that said it. */
function saidBatches(dir: string): (SaidBatch & { run: number })[] {
  const out: (SaidBatch & { run: number })[] = [];
  for (let run = 0; existsSync(path.join(dir, sourceOutputFile(run))); run++)
    for (const line of readFileSync(path.join(dir, sourceOutputFile(run)), "utf8").split("\n")) {
      const m = parseProgramLine(line);
      if (m.kind === "batch") out.push({ file: m.file, times: m.times, endUs: m.endUs, run });
    }
  return out;
}

async function recoverSession(deps: RecoveryDeps, session: string, dir: string): Promise<void> {
  const { log, listed, finalizer } = await resumeSession(deps, session, dir, { timeSource: "capture" });
  const s = { node: deps.node, session, sessionDir: dir, finalizer };
  let seq = Math.max(-1, ...listed.map((b) => b.seq)) + 1;
  const said = saidBatches(dir);
  // The dead node could not redact what its program printed (program-source.ts does at each run's end).
  for (let run = 0; existsSync(path.join(dir, sourceOutputFile(run))); run++)
    await redactFile(path.join(dir, sourceOutputFile(run)), deps.redact);
  const pending: { b: SaidBatch & { run: number }; moved: boolean }[] = [];
  let lastDoneRun: number | null = null;
  for (const b of said) {
    const status = saidBatchStatus(s, b, seq + pending.length);
    if (status !== "done") pending.push({ b, moved: status === "moved" });
    else if (pending.length === 0) lastDoneRun = b.run;
  }
  // Batches of one run continue each other (program-batch.ts), the listed one before included; a
  // run's first is where a gap ended.
  const lastListed = listed.at(-1);
  let previous =
    lastDoneRun !== null && lastListed ? { run: lastDoneRun, endUs: isoUs(lastListed.end) } : null;
  for (const [i, { b, moved }] of pending.entries()) {
    try {
      const continuesUs = previous?.run === b.run ? previous.endUs : null;
      const { endUs } = await listProgramBatch(s, b, seq, i === pending.length - 1, { moved, continuesUs });
      previous = { run: b.run, endUs };
      seq++;
    } catch (err) {
      log.error(
        { err, file: b.file },
        "a batch the sensor program said could not be listed: left in incoming/",
      );
    }
  }
  await finalizer.close();
  const outDir = path.join(dir, OUT_DIR);
  const unsaid = existsSync(outDir) ? readdirSync(outDir) : [];
  if (unsaid.length)
    log.warn({ files: unsaid }, "files the sensor program never said it closed: left in incoming/");
  await endInterrupted(deps, log, {
    session,
    dir,
    recovered: finalizer.batches,
    listed: listed.length,
    lost: 0,
  });
}

/** A sensor program of the dead node may still be closing its batch (its parent-death SIGTERM). */
async function waitForPrograms(outDir: string, deps: RecoveryDeps): Promise<void> {
  const marker = `LABX_OUT_DIR=${outDir}`;
  const running = (): boolean =>
    existsSync("/proc") &&
    readdirSync("/proc").some((p) => {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) return false;
      try {
        return readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(marker);
      } catch {
        return false;
      }
    });

  for (let waited = 0; running() && waited < (deps.settleMs ?? 10_000); waited += 100)
    await sleep(deps.clock, 100);
}
