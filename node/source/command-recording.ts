import { mkdir } from "node:fs/promises";
import path from "node:path";
import { BatchFinalizer } from "../store/batch-finalizer.js";
import { closeSession } from "../store/session-files.js";
import { FfmpegProcess, type Exit, type SpawnFn } from "../ffmpeg/ffmpeg-process.js";
import { Restarts } from "../session/restarts.js";
import { diskFullEvent, endError, gapEvent, isNoSpace, restartedEvent } from "../session/recording-events.js";
import type { RestartPolicy } from "../session/restart-policy.js";
import {
  CameraUnavailableError,
  type RecordingDeps,
  type RecordingResult,
  type SessionRecording,
} from "../session/recording-types.js";
import { realTimers, type TimerHandle, type Timers } from "../../platform/timers.js";
import { commandEnv, parseProgramLine } from "./command-protocol.js";
import { listProgramBatch, OUT_DIR, redactFile, sourceOutputFile, type SaidBatch } from "./program-batch.js";

const DURATION_GRACE_MS = 1000;

export interface CommandRecordingOptions {
  node: string;
  session: string;
  sessionDir: string;
  /** The program and its arguments (never a shell line). */
  command: readonly string[];
  /** Where it runs (relative paths in the command are from here): the node's working directory. */
  cwd: string;
  launcher: readonly string[];
  /** Applied to the program's kept output once each run ends (platform/secrets.ts). */
  redact: (text: string) => string;
  batchDuration: number;
  duration: number | null;
  /** Epoch µs of a synchronized start (`at`), or null: the grid starts when the program is spawned. */
  alignToUs: number | null;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  restartPolicy?: RestartPolicy;
}

type Deps = Omit<RecordingDeps, "spawn"> & { spawn?: SpawnFn };

/**
 * One session of a sensor program (`--source command`, command-protocol.ts): the program writes its
 * batches and their times; labx names, hashes, lists and announces each, strictly in order, restarts a
 * program that dies (a `gap` event says what was lost) and ends the session on stop or duration.
 */
export class CommandRecording implements SessionRecording {
  readonly done: Promise<RecordingResult>;
  private readonly finalizer: BatchFinalizer;
  private readonly restarts: Restarts;
  private readonly timers: Timers;
  private chain: Promise<void> = Promise.resolve();
  private process: FfmpegProcess | null = null;
  private runIndex = 0;
  private nextSeq = 0;
  private samples = 0;
  private zeroUs: number | null = null;
  private startedUs: number | null = null;
  private lastEndUs: number | null = null;
  /** The first batch of a restarted run closes the gap since the last batch. */
  private gapOpen = false;
  private stopRequested = false;
  private stopReason: "stopped" | "disk_full" | "completed" | null = null;
  /** While stopping, each batch waits for the next line or the exit: the last one is marked `last`. */
  private held: SaidBatch | null = null;
  private durationTimer: TimerHandle | null = null;
  private lastError: string | null = null;
  private lastStderr: string | null = null;
  private diskFullError: string | null = null;
  private lastExit: Exit = { code: 0, signal: null, forced: "none" };
  private unlisted = false;
  private finished = false;
  private resolveDone!: (r: RecordingResult) => void;
  private onStarted: ((ok: boolean) => void) | null = null;

  constructor(
    private readonly opts: CommandRecordingOptions,
    private readonly deps: Deps,
  ) {
    this.timers = deps.timers ?? realTimers;
    this.finalizer = new BatchFinalizer({
      node: opts.node,
      session: opts.session,
      sessionDir: opts.sessionDir,
      ffmpegPath: "",
      childEnv: deps.childEnv,
      log: deps.log,
      announce: deps.announce,
      clock: deps.clock,
      timeSource: "capture",
    });
    this.restarts = new Restarts(opts.restartPolicy, this.timers);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get batchCount(): number {
    return this.finalizer.batches;
  }

  get startedAtUs(): number | null {
    return this.startedUs;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Resolves when the program says it took its first sample; throws if it exits or stays silent. */
  async start(): Promise<void> {
    const { opts } = this;
    await mkdir(path.join(opts.sessionDir, OUT_DIR), { recursive: true });
    const started = new Promise<boolean>((r) => (this.onStarted = r));
    this.spawn();
    let timer: TimerHandle | null = null;
    const timeout = new Promise<"timeout">(
      (r) => (timer = this.timers.setTimeout(() => r("timeout"), opts.startTimeoutMs)),
    );
    const outcome = await Promise.race([started, timeout]);
    if (timer) this.timers.clearTimeout(timer);
    if (outcome === true) {
      if (opts.duration !== null) {
        // A program that ends itself at LABX_DURATION keeps its exact end; one that does not is
        // stopped a second later.
        const endMs = (this.zeroUs! + opts.duration * 1e6) / 1000 + DURATION_GRACE_MS;
        this.durationTimer = this.timers.setTimeout(
          () => void this.stop("completed"),
          Math.max(0, endMs - this.now()),
        );
      }
      return;
    }
    if (outcome === "timeout") await this.process?.stop(opts.stopTimeoutMs);
    await this.done;
    const program = path.basename(opts.command[0] ?? "");
    throw new CameraUnavailableError(
      outcome === "timeout"
        ? `the sensor program ${program} said no {"started": …} within ${opts.startTimeoutMs / 1000} s`
        : `the sensor program ${program} exited before its first sample: ${this.lastError ?? "no reason given"}`,
    );
  }

  diskFull(what: string): void {
    if (this.diskFullError) return;
    this.diskFullError = `disk full: ${what}`;
    this.deps.log.error({ what }, "disk full: stopping the session");
    this.deps.event?.(diskFullEvent(what));
    void this.stop("disk_full");
  }

  /** Ends the session: the program closes its batch and exits; resolves when every batch is listed. */
  async stop(reason: "stopped" | "disk_full" | "completed" = "stopped"): Promise<RecordingResult> {
    this.stopReason ??= reason;
    this.stopRequested = true;
    if (this.durationTimer) this.timers.clearTimeout(this.durationTimer);
    if (this.restarts.cancel()) this.end(this.stopReason);
    await this.process?.stop(this.opts.stopTimeoutMs);
    return this.done;
  }

  private spawn(): void {
    const { opts, deps } = this;
    const run = this.runIndex;
    const zeroUs = (this.zeroUs ??= opts.alignToUs ?? this.now() * 1000);
    const env = commandEnv({
      node: opts.node,
      session: opts.session,
      outDir: path.join(opts.sessionDir, OUT_DIR),
      batchDurationS: opts.batchDuration,
      zeroUs,
      durationS: opts.duration,
      firstSeq: this.nextSeq,
      run,
    });
    const [program, ...args] = opts.command;
    deps.log.info({ run, program, args, first_seq: this.nextSeq }, "sensor program spawn");
    const proc = new FfmpegProcess(
      program!,
      args,
      opts.cwd,
      {
        stdoutFile: path.join(opts.sessionDir, sourceOutputFile(run)),
        stdout: (line) => this.onLine(line),
        stderr: (line) => {
          this.lastStderr = line;
          deps.log.warn({ run, line }, "sensor program says");
        },
        launcher: opts.launcher,
        timers: this.timers,
        env,
      },
      deps.spawn,
    );
    this.process = proc;
    proc.start();
    proc.pollEvery(100);
    void proc.exited.then((exit) => this.onExit(exit));
  }

  private onLine(line: string): void {
    const msg = parseProgramLine(line);
    if (msg.kind === "text") return this.deps.log.info({ line: msg.text }, "sensor program output");
    if (msg.kind === "invalid") return this.deps.log.warn({ why: msg.why }, "sensor program line ignored");
    if (msg.kind === "started") {
      if (this.startedUs === null) this.startedUs = msg.firstUs;
      this.onStarted?.(true);
      this.onStarted = null;
      return;
    }
    if (this.held) this.enqueue(this.held, false);
    this.held = null;
    const batch = { file: msg.file, times: msg.times, endUs: msg.endUs };
    if (msg.last) this.enqueue(batch, true);
    else if (this.stopRequested) this.held = batch;
    else this.enqueue(batch, false);
  }

  private onExit(exit: Exit): void {
    this.process = null;
    const output = path.join(this.opts.sessionDir, sourceOutputFile(this.runIndex));
    this.chain = this.chain
      .then(() => redactFile(output, this.opts.redact))
      .catch((err: unknown) =>
        this.deps.log.warn({ err, file: output }, "the program's kept output could not be redacted"),
      );
    this.lastExit = exit;
    const why = this.lastStderr ?? `exited with ${exit.code ?? exit.signal}`;
    if (this.held) this.enqueue(this.held, true);
    this.held = null;
    if (this.onStarted) {
      // Never started: start() reports it.
      this.lastError = why;
      this.onStarted(false);
      this.onStarted = null;
      return this.end("failed");
    }
    if (this.stopRequested) return this.end(this.stopReason ?? "stopped");
    if (exit.code === 0) return this.end("completed");
    this.lastError = why;
    this.restarts.failed(this.now());
    const delay = this.restarts.delay(this.now());
    if (delay === null) return this.end("failed");
    this.deps.log.warn(
      { exit, delay_ms: delay, failures: this.restarts.count },
      "sensor program died, restarting",
    );
    this.deps.event?.(restartedEvent(why, delay, "the sensor program"));
    this.gapOpen = true;
    this.chain = this.chain.then(() => {
      if (this.stopRequested) return this.end(this.stopReason ?? "stopped");
      this.restarts.schedule(delay, () => {
        this.runIndex++;
        try {
          this.spawn();
        } catch (err) {
          // e.g. the session folder is gone: nothing more can be recorded into it.
          this.lastError = (err as Error).message;
          this.end("failed");
        }
      });
    });
  }

  /** Lists one batch the program wrote, in order: moved to labx's name, its times as the sidecar. */
  private enqueue(b: SaidBatch, last: boolean): void {
    // Numbered when listed: a batch that cannot be listed leaves no hole in the session's numbers.
    let seq = this.nextSeq;
    this.chain = this.chain
      .then(async () => {
        seq = this.nextSeq;
        const session = { ...this.opts, finalizer: this.finalizer };
        const listed = await listProgramBatch(session, b, seq, last, {
          continuesUs: this.gapOpen ? null : this.lastEndUs,
          // The first batch after a restart closes the gap with its first sample, before it is announced.
          beforeListing: ({ startUs }) => {
            if (this.gapOpen && this.lastEndUs !== null)
              this.deps.event?.(gapEvent(this.lastEndUs, startUs, 0, "the sensor program"));
            this.gapOpen = false;
          },
        });
        this.nextSeq++;
        this.samples += listed.samples;
        this.lastEndUs = listed.endUs;
      })
      .catch((err: unknown) => {
        this.deps.log.error({ err, file: b.file, times: b.times, seq }, "sensor batch not listed");
        if (isNoSpace(err)) {
          this.unlisted = true;
          return this.diskFull(`batch ${seq} could not be listed (${(err as Error).message})`);
        }
        this.deps.event?.({
          type: "recorder_failed",
          level: "warning",
          message: `the sensor program's batch ${b.file} could not be listed as batch ${seq}: ${(err as Error).message}; its files stay in ${OUT_DIR}/`,
          reason: (err as Error).message,
        });
      });
  }

  private end(reason: RecordingResult["reason"]): void {
    if (this.finished) return;
    this.finished = true;
    if (this.durationTimer) this.timers.clearTimeout(this.durationTimer);
    this.chain = this.chain.then(async () => {
      const error = endError(reason, this.restarts.count, this.lastError, this.diskFullError);
      const { batches } = this.finalizer;
      await closeSession(this.finalizer, this.opts.sessionDir, this.deps.log, {
        reason,
        batches,
        endedAt: new Date(this.now()),
        unlisted: this.unlisted,
      });
      const result = { batches, frames: this.samples, exit: this.lastExit, reason };
      this.deps.log.info(result, "recording ended");
      this.resolveDone({ ...result, ...(error ? { error } : {}) });
    });
  }
}
