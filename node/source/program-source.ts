import { mkdir } from "node:fs/promises";
import path from "node:path";
import { BatchFinalizer } from "../data/batch-finalizer.js";
import { ChildRunner, type Exit } from "../process/child-runner.js";
import { gapEvent, isNoSpace } from "../session/session-events.js";
import { CameraUnavailableError, type SessionDeps } from "../session/session-types.js";
import type { RunEnd, SessionContext, SessionSource, SourceRun } from "../session/session-supervisor.js";
import type { TimerHandle } from "../../platform/timers.js";
import { programEnv, parseProgramLine } from "./program-protocol.js";
import { listProgramBatch, OUT_DIR, redactFile, sourceOutputFile, type SaidBatch } from "./program-batch.js";

const DURATION_GRACE_MS = 1000;

export interface ProgramSourceOptions {
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
}

interface ProgramRun extends SourceRun {
  readonly process: ChildRunner;
}

/**
 * A sensor program (`--source command`, program-protocol.ts; session-supervisor.ts runs the loop):
 * the program writes its batches and says their times; labx names, hashes, lists and announces each,
 * strictly in order. After a restart the first batch closes a `gap` event since the last one listed.
 */
export class ProgramSource implements SessionSource<ProgramRun> {
  readonly name = "the sensor program";
  readonly finalizer: BatchFinalizer;
  private nextSeq = 0;
  private samples = 0;
  private zeroUs: number | null = null;
  private startedUs: number | null = null;
  private lastEndUs: number | null = null;
  /** The first batch of a restarted run closes the gap since the last batch. */
  private gapOpen = false;
  /** While stopping, each batch waits for the next line or the exit: the last one is marked `last`. */
  private held: SaidBatch | null = null;
  private durationTimer: TimerHandle | null = null;
  private lastStderr: string | null = null;
  /** Why the last run ended. */
  private why: string | null = null;
  /** Until the first run says it started: how start() learns (false: it exited first). */
  private onStarted: ((ok: boolean) => void) | null = null;
  private startedSaid: Promise<boolean> | null = null;

  constructor(
    private readonly opts: ProgramSourceOptions,
    private readonly deps: SessionDeps,
    private readonly session: SessionContext,
  ) {
    this.finalizer = new BatchFinalizer({
      node: opts.node,
      session: opts.session,
      sessionDir: opts.sessionDir,
      ffmpegPath: "",
      childEnv: deps.childEnv,
      log: deps.log,
      announce: deps.announce,
      syncStatus: deps.syncStatus,
      timeSource: "capture",
    });
  }

  get startedAtUs(): number | null {
    return this.startedUs;
  }

  async prepare(): Promise<void> {
    await mkdir(path.join(this.opts.sessionDir, OUT_DIR), { recursive: true });
    this.startedSaid = new Promise<boolean>((r) => (this.onStarted = r));
  }

  /** "ok" when the program says it took its first sample; "exit" or "timeout" when it does not. */
  async first(): Promise<string> {
    const { clock } = this.deps;
    let timer: TimerHandle | null = null;
    const timeout = new Promise<"timeout">(
      (r) => (timer = clock.setTimeout(() => r("timeout"), this.opts.startTimeoutMs)),
    );
    const outcome = await Promise.race([this.startedSaid!, timeout]);
    if (timer) clock.clearTimeout(timer);
    return outcome === true ? "ok" : outcome === false ? "exit" : outcome;
  }

  startError(_run: ProgramRun, outcome: string): Error {
    const program = path.basename(this.opts.command[0] ?? "");
    return new CameraUnavailableError(
      outcome === "timeout"
        ? `the sensor program ${program} said no {"started": …} within ${this.opts.startTimeoutMs / 1000} s`
        : `the sensor program ${program} exited before its first sample: ${this.why ?? "no reason given"}`,
    );
  }

  /** A program that ends itself at LABX_DURATION keeps its exact end; one that does not is stopped a second later. */
  started(): void {
    if (this.opts.duration === null) return;
    const endMs = (this.zeroUs! + this.opts.duration * 1e6) / 1000 + DURATION_GRACE_MS;
    this.durationTimer = this.deps.clock.setTimeout(
      () => void this.session.stop("completed"),
      Math.max(0, endMs - this.session.now()),
    );
  }

  spawn(index: number): ProgramRun {
    const { opts, deps } = this;
    const zeroUs = (this.zeroUs ??= opts.alignToUs ?? this.session.now() * 1000);
    const env = programEnv({
      node: opts.node,
      session: opts.session,
      outDir: path.join(opts.sessionDir, OUT_DIR),
      batchDurationS: opts.batchDuration,
      zeroUs,
      durationS: opts.duration,
      firstSeq: this.nextSeq,
      run: index,
    });
    const [program, ...args] = opts.command;
    deps.log.info({ run: index, program, args, first_seq: this.nextSeq }, "sensor program spawn");
    const proc = new ChildRunner(
      program!,
      args,
      opts.cwd,
      {
        stdoutFile: path.join(opts.sessionDir, sourceOutputFile(index)),
        stdout: (line) => this.onLine(line),
        stderr: (line) => {
          this.lastStderr = line;
          deps.log.warn({ run: index, line }, "sensor program says");
        },
        launcher: opts.launcher,
        clock: deps.clock,
        env,
      },
      deps.spawn,
    );
    proc.start();
    proc.pollEvery(100);
    return { index, process: proc, exited: proc.exited, stop: (ms) => proc.stop(ms).then(() => {}) };
  }

  ended({ index }: ProgramRun, exit: Exit): RunEnd {
    const output = path.join(this.opts.sessionDir, sourceOutputFile(index));
    this.session.queue(
      () => redactFile(output, this.opts.redact),
      (err) => this.deps.log.warn({ err, file: output }, "the program's kept output could not be redacted"),
    );
    if (this.held) this.enqueue(this.held, true);
    this.held = null;
    this.why = this.lastStderr ?? `exited with ${exit.code ?? exit.signal}`;
    const neverStarted = this.onStarted !== null;
    // Never started: start() reports it.
    this.onStarted?.(false);
    this.onStarted = null;
    return {
      crashed: neverStarted || (!this.session.stopRequested() && exit.code !== 0),
      why: this.why,
      restartable: !neverStarted,
      finish: () => {},
      // On the chain: the batches the dead run said are listed first, continuing the session.
      handOver: async () => {
        this.gapOpen = true;
      },
    };
  }

  stopping(): void {
    if (this.durationTimer) this.deps.clock.clearTimeout(this.durationTimer);
  }

  ending(): void {
    this.stopping();
  }

  result(): { frames: number } {
    return { frames: this.samples };
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
    else if (this.session.stopRequested()) this.held = batch;
    else this.enqueue(batch, false);
  }

  /** Lists one batch the program wrote, in order: moved to labx's name, its times as the sidecar. */
  private enqueue(b: SaidBatch, last: boolean): void {
    // Numbered when listed: a batch that cannot be listed leaves no hole in the session's numbers.
    let seq = this.nextSeq;
    this.session.queue(
      async () => {
        seq = this.nextSeq;
        const session = { ...this.opts, finalizer: this.finalizer };
        const listed = await listProgramBatch(session, b, seq, last, {
          continuesUs: this.gapOpen ? null : this.lastEndUs,
          // The first batch after a restart closes the gap with its first sample, before it is announced.
          beforeListing: ({ startUs }) => {
            if (this.gapOpen && this.lastEndUs !== null)
              this.session.event(gapEvent(this.lastEndUs, startUs, 0, this.name));
            this.gapOpen = false;
          },
        });
        this.nextSeq++;
        this.samples += listed.samples;
        this.lastEndUs = listed.endUs;
      },
      (err) => {
        this.deps.log.error({ err, file: b.file, times: b.times, seq }, "sensor batch not listed");
        if (isNoSpace(err)) {
          this.session.unlisted();
          return this.session.diskFull(`batch ${seq} could not be listed (${(err as Error).message})`);
        }
        this.session.event({
          type: "recorder_failed",
          level: "warning",
          message: `the sensor program's batch ${b.file} could not be listed as batch ${seq}: ${(err as Error).message}; its files stay in ${OUT_DIR}/`,
          reason: (err as Error).message,
        });
      },
    );
  }
}
