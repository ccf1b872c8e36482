import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { BatchReady, NodeEvent } from "../generated/payloads.js";
import { batchFileName, batchFilePattern, isoMicros } from "../batches/paths.js";
import { appendAttempt, ATTEMPTS_FILE, SESSION_END_FILE, writeSessionEnd } from "../batches/session-files.js";
import { BatchAssembler, type AssembledBatch } from "./batch-assembler.js";
import { BatchFinalizer } from "./batch-finalizer.js";
import { buildFfmpegArgs, displayArgs, type RecorderArgs } from "./ffmpeg-args.js";
import { parseInputStart, parseStderrLine, parseStdoutLine } from "./ffmpeg-output.js";
import { FfmpegProcess, type Exit, type SpawnFn } from "./ffmpeg-process.js";
import { DEFAULT_RESTART_POLICY, restartDelay, type RestartPolicy } from "./restart-policy.js";

export interface RecordingOptions {
  node: string;
  session: string;
  sessionDir: string;
  ffmpegPath: string;
  launcher: readonly string[];
  recorder: Omit<RecorderArgs, "filePattern" | "startNumber">;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** How often ffmpeg's output is read once recording runs: the latency of a batch announcement. */
  pollMs?: number;
  restartPolicy?: RestartPolicy;
}

/** ffmpeg's stdout in the session folder: framecrc lines (every frame's time) and the batch list. */
export const TIMELINE_FILE = "ffmpeg-timeline.txt";

/** The first run writes ffmpeg-timeline.txt; a restarted one ffmpeg-timeline-<n>.txt. */
export function timelineFile(attempt: number): string {
  return attempt === 0 ? TIMELINE_FILE : `ffmpeg-timeline-${attempt}.txt`;
}

export type RecordingEvent = Omit<NodeEvent, "node" | "at" | "session">;

export interface RecordingDeps {
  log: Logger;
  /** Announces a batch; called in order, after its manifest line is on disk. */
  announce: (batch: BatchReady) => Promise<void>;
  clock: () => BatchReady["clock"];
  /** Warnings and faults worth an event (restarts, gaps, coarse time bases): the controller publishes them. */
  event?: (e: RecordingEvent) => void;
  spawn?: SpawnFn;
  now?: () => number;
}

export interface RecordingResult {
  batches: number;
  frames: number;
  exit: Exit;
  /** Why the recording ended: asked to stop, its duration ran out, or ffmpeg failed for good. */
  reason: "stopped" | "completed" | "failed" | "disk_full";
  error?: string;
}

export class CameraUnavailableError extends Error {}

/** One ffmpeg process of the session: its own timeline file, assembler and time anchor. */
interface Run {
  index: number;
  ffmpeg: FfmpegProcess;
  assembler: BatchAssembler;
  anchorUs: number | null;
  frames: number;
  firstError: string | null;
  firstFrame: () => void;
  firstFrameSeen: Promise<void>;
}

/**
 * One session: ffmpeg writing batches, each finalized strictly in order (see batch-finalizer.ts).
 * If ffmpeg dies, its partial batch is repaired and announced, and a new ffmpeg continues the
 * numbering after a backoff; the first frame of the new run closes a `gap` event with the exact
 * wall-clock window lost. Too many failures end the session as `failed`.
 * `start()` resolves at the first captured frame; `done` when the session is over and every batch
 * is on disk, in the manifest and announced.
 */
export class Recording {
  readonly done: Promise<RecordingResult>;
  private run: Run | null = null;
  private readonly finalizer: BatchFinalizer;
  private chain: Promise<void> = Promise.resolve();
  private frames = 0;
  private nextSeq = 0;
  private stopRequested = false;
  private stopReason: "stopped" | "disk_full" | null = null;
  private failures: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private startedUs: number | null = null;
  /** Where the last batch on disk ends (wall-clock µs): a gap starts here. */
  private lastEndUs: number | null = null;
  private lostSinceLastRun = 0;
  private lastExit: Exit = { code: 0, signal: null, forced: "none" };
  private lastError: string | null = null;
  private resolveDone!: (r: RecordingResult) => void;
  private finished = false;

  constructor(
    private readonly opts: RecordingOptions,
    private readonly deps: RecordingDeps,
  ) {
    this.finalizer = new BatchFinalizer({
      node: opts.node,
      session: opts.session,
      sessionDir: opts.sessionDir,
      ffmpegPath: opts.ffmpegPath,
      log: deps.log,
      announce: deps.announce,
      clock: deps.clock,
    });
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get batchCount(): number {
    return this.finalizer.batches;
  }

  /** Wall-clock µs of the session's first frame, once known. */
  get startedAtUs(): number | null {
    return this.startedUs;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    const { opts } = this;
    await mkdir(opts.sessionDir, { recursive: true });
    // Left by an earlier start of this name that never recorded a frame (it has no manifest).
    await rm(path.join(opts.sessionDir, ATTEMPTS_FILE), { force: true });
    await rm(path.join(opts.sessionDir, SESSION_END_FILE), { force: true });
    const run = this.spawn(0);
    const outcome = await this.firstFrameOf(run);
    if (outcome === "frame") return;
    if (outcome === "timeout") await run.ffmpeg.stop(opts.stopTimeoutMs);
    await this.done;
    throw new CameraUnavailableError(
      outcome === "timeout"
        ? `no frame from ${opts.recorder.camera} within ${opts.startTimeoutMs / 1000} s`
        : `camera ${opts.recorder.camera} failed: ${run.firstError ?? "ffmpeg exited before the first frame"}`,
    );
  }

  /** Ends the session: ffmpeg finishes the last, shorter batch; resolves when all are announced. */
  async stop(reason: "stopped" | "disk_full" = "stopped"): Promise<RecordingResult> {
    this.stopReason ??= reason;
    this.stopRequested = true;
    if (this.restartTimer) {
      // Between two runs: nothing is recording, end the session here.
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.end(this.stopReason);
    }
    await this.run?.ffmpeg.stop(this.opts.stopTimeoutMs);
    return this.done;
  }

  private spawn(index: number): Run {
    const { opts, deps } = this;
    let remaining = opts.recorder.duration;
    // Wall-clock: a session's duration counts from its first frame, gaps included.
    if (remaining !== null && index > 0) remaining -= (this.now() * 1000 - (this.startedUs ?? 0)) / 1e6;
    const args = buildFfmpegArgs({
      ...opts.recorder,
      ...(index > 0
        ? { alignToUs: null, duration: remaining === null ? null : Math.max(0.1, remaining) }
        : {}),
      startNumber: this.nextSeq,
      filePattern: batchFilePattern(opts.node, opts.session),
    });
    deps.log.info(
      { session: opts.session, run: index, cmd: displayArgs([opts.ffmpegPath, ...args]) },
      "ffmpeg spawn",
    );
    let firstFrame!: () => void;
    const firstFrameSeen = new Promise<void>((r) => (firstFrame = r));
    const partial: Omit<Run, "ffmpeg"> = {
      index,
      assembler: new BatchAssembler((seq) => batchFileName(opts.node, opts.session, seq), this.nextSeq),
      anchorUs: null,
      frames: 0,
      firstError: null,
      firstFrame,
      firstFrameSeen,
    };
    const run: Run = {
      ...partial,
      ffmpeg: new FfmpegProcess(
        opts.ffmpegPath,
        args,
        opts.sessionDir,
        {
          launcher: opts.launcher,
          stdoutFile: path.join(opts.sessionDir, timelineFile(index)),
          stdout: (l) => this.onStdout(run, l),
          stderr: (l) => this.onStderr(run, l),
        },
        deps.spawn,
      ),
    };
    this.run = run;
    void run.ffmpeg.exited.then((exit) => this.onExit(run, exit));
    return run;
  }

  private async firstFrameOf(run: Run): Promise<"frame" | "exit" | "timeout"> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      run.firstFrameSeen.then(() => "frame" as const),
      run.ffmpeg.exited.then(() => "exit" as const),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), this.opts.startTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === "frame") run.ffmpeg.pollEvery(this.opts.pollMs ?? 500);
    return outcome;
  }

  private onStdout(run: Run, line: string): void {
    try {
      const parsed = parseStdoutLine(line);
      if (parsed.kind === "timebase" && parsed.den / parsed.num < 1000 && run.index === 0) {
        // e.g. jpeg_pipe or mpjpeg streams (1/25 s): arrival stamps are quantized to the tick.
        const message = `the camera's time base is ${parsed.num}/${parsed.den} s: frame and batch times are quantized to ${Math.round((parsed.num / parsed.den) * 1000)} ms`;
        this.deps.log.warn(message);
        this.deps.event?.({ type: "coarse_timestamps", level: "warning", message });
      }
      for (const batch of run.assembler.push(parsed)) this.enqueue(run, batch, false);
      if (parsed.kind === "frame") {
        this.frames++;
        if (++run.frames === 1) this.onFirstFrame(run);
      }
    } catch (err) {
      this.deps.log.error({ err, line }, "ffmpeg output not understood");
    }
  }

  private onFirstFrame(run: Run): void {
    run.firstFrame();
    const anchor = run.anchorUs;
    const first = run.assembler.firstFramePtsUs;
    if (anchor === null || first === null) {
      this.deps.log.error("ffmpeg never reported the input start time");
      return;
    }
    const firstUs = anchor + first;
    if (run.index === 0) this.startedUs = firstUs;
    // On disk before any batch of this run is finalized: recovery after a crash needs the anchor.
    const record = {
      attempt: run.index,
      timeline: timelineFile(run.index),
      anchor_us: anchor,
      first_seq: this.nextSeq,
    };
    this.chain = this.chain.then(() => appendAttempt(this.opts.sessionDir, record));
    if (run.index > 0) {
      const from = this.lastEndUs ?? firstUs;
      this.deps.event?.({
        type: "gap",
        level: "warning",
        message: `no recording from ${isoMicros(from)} to ${isoMicros(firstUs)} (${((firstUs - from) / 1e6).toFixed(3)} s, ffmpeg restarted)`,
        gap_start: isoMicros(from),
        gap_end: isoMicros(firstUs),
        gap_s: Math.round(firstUs - from) / 1e6,
        frames_lost: this.lostSinceLastRun,
      });
      this.lostSinceLastRun = 0;
    }
  }

  private onStderr(run: Run, line: string): void {
    const start = parseInputStart(line);
    // An aligned recording's timeline starts at `at` (see RecorderArgs.alignToUs), not at the input's start.
    if (start !== null && run.anchorUs === null)
      run.anchorUs = (run.index === 0 ? this.opts.recorder.alignToUs : null) ?? start;
    const { level, text } = parseStderrLine(line);
    // The first error is the cause; ffmpeg's later ones are consequences ("Error initializing output…").
    if (level === "error") run.firstError ??= text;
    this.deps.log[level]({ ffmpeg: text }, "ffmpeg");
  }

  private onExit(run: Run, exit: Exit): void {
    this.run = null;
    this.lastExit = exit;
    // A stream that ends (EOF, exit 0) before its duration is a camera gone away, not a finished session.
    const duration = this.opts.recorder.duration;
    const endPts = run.assembler.lastFrameEndPtsUs;
    const recordedUs =
      run.anchorUs === null || endPts === null || this.startedUs === null
        ? 0
        : run.anchorUs + endPts - this.startedUs;
    const ranOut = duration !== null && exit.code === 0 && recordedUs >= (duration - 0.5) * 1e6;
    const crashed = !this.stopRequested && !ranOut;
    const why = run.firstError ?? `ffmpeg exited with ${exit.code ?? exit.signal}`;
    let delay: number | null = null;
    if (crashed) {
      this.lastError = why;
      this.failures.push(this.now());
      // A first run that never delivered a frame is a camera that is not there: start() reports it.
      if (this.startedUs !== null)
        delay = restartDelay(this.failures, this.now(), this.opts.restartPolicy ?? DEFAULT_RESTART_POLICY);
    }
    const rest = run.assembler.finish();
    if (delay === null) {
      rest.forEach((batch, i) => this.enqueue(run, batch, i === rest.length - 1));
      this.end(crashed ? "failed" : this.stopRequested ? (this.stopReason ?? "stopped") : "completed");
      return;
    }
    for (const batch of rest) this.enqueue(run, batch, false);
    this.deps.log.warn(
      { session: this.opts.session, exit, delayMs: delay, failures: this.failures.length },
      "ffmpeg died, restarting",
    );
    this.deps.event?.({
      type: "recorder_restarted",
      level: "warning",
      message: `ffmpeg stopped unexpectedly (${why}); restarting in ${delay} ms`,
      reason: why,
    });
    this.chain = this.chain.then(() => {
      // A stop that came while the partial batch was being repaired ends the session here.
      if (this.stopRequested) return this.end(this.stopReason ?? "stopped");
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        let next: Run;
        try {
          next = this.spawn(run.index + 1);
        } catch (err) {
          // e.g. the session folder is gone: nothing more can be recorded into it.
          this.lastError = (err as Error).message;
          return this.end("failed");
        }
        void this.firstFrameOf(next).then(async (outcome) => {
          // A run that hangs without frames counts as a failure: its exit takes the same path.
          if (outcome === "timeout") await next.ffmpeg.stop(this.opts.stopTimeoutMs);
        });
      }, delay);
    });
  }

  private end(reason: RecordingResult["reason"]): void {
    if (this.finished) return;
    this.finished = true;
    this.chain = this.chain.then(async () => {
      await this.finalizer.close();
      const failed = reason === "failed";
      const error = failed
        ? this.failures.length > 1
          ? `ffmpeg failed ${this.failures.length} times, giving up: ${this.lastError}`
          : (this.lastError ?? "ffmpeg failed")
        : undefined;
      await writeSessionEnd(this.opts.sessionDir, {
        reason,
        batches: this.finalizer.batches,
        ended_at: new Date(this.now()).toISOString(),
      }).catch((err: unknown) => this.deps.log.error({ err }, "session end not recorded"));
      this.deps.log.info(
        {
          session: this.opts.session,
          exit: this.lastExit,
          batches: this.finalizer.batches,
          frames: this.frames,
          reason,
        },
        "recording ended",
      );
      this.resolveDone({
        batches: this.finalizer.batches,
        frames: this.frames,
        exit: this.lastExit,
        reason,
        ...(error ? { error } : {}),
      });
    });
  }

  private enqueue(run: Run, batch: AssembledBatch, last: boolean): void {
    this.nextSeq = Math.max(this.nextSeq, batch.seq + 1);
    this.chain = this.chain
      .then(async () => {
        if (run.anchorUs === null) throw new Error("ffmpeg never reported the input start time");
        const result = await this.finalizer.finalize(batch, run.anchorUs, last);
        if (result.batch) this.lastEndUs = result.endUs;
        this.lostSinceLastRun += result.framesLost;
      })
      .catch((err: unknown) => this.deps.log.error({ err, seq: batch.seq }, "batch could not be finalized"));
  }
}
