import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { batchFileName } from "../store/paths.js";
import {
  appendAttempt,
  ATTEMPTS_FILE,
  closeSession,
  SESSION_END_FILE,
  timelineFile,
} from "../store/session-files.js";
import type { AssembledBatch } from "../ffmpeg/batch-assembler.js";
import { BatchFinalizer } from "../store/batch-finalizer.js";
import { cameraKind, displayArgs, timeSourceOf } from "../ffmpeg/ffmpeg-args.js";
import { restartAnchor, runArgs } from "./recording-options.js";
import type { Exit } from "../ffmpeg/ffmpeg-process.js";
import { FfmpegRun } from "../ffmpeg/ffmpeg-run.js";
import { BatchHoldback, FLUSHED_SPAN_US } from "./batch-holdback.js";
import { redactUrl } from "../../platform/secrets.js";
import {
  diskFullEvent,
  endError,
  gapEvent,
  isNoSpace,
  restartedEvent,
  StreamWarnings,
} from "./recording-events.js";
import { isCrash } from "./restart-policy.js";
import { Restarts } from "./restarts.js";
import {
  CameraUnavailableError,
  InexactTimesError,
  type RecordingDeps,
  type RecordingOptions,
  type RecordingResult,
  type SessionRecording,
} from "./recording-types.js";

/**
 * One session: ffmpeg writing batches, each finalized strictly in order (see batch-finalizer.ts).
 * If ffmpeg dies, its partial batch is repaired and announced, and a new ffmpeg continues the
 * numbering after a backoff; the first frame of the new run closes a `gap` event with the exact
 * wall-clock window lost. Too many failures end the session as `failed`.
 * `start()` resolves at the first captured frame; `done` when the session is over and every batch
 * is on disk, in the manifest and announced.
 */
export class Recording implements SessionRecording {
  readonly done: Promise<RecordingResult>;
  private run: FfmpegRun | null = null;
  private readonly finalizer: BatchFinalizer;
  private chain: Promise<void> = Promise.resolve();
  /** Frames of the runs that have ended (the current run counts its own). */
  private framesOfEndedRuns = 0;
  private nextSeq = 0;
  private stopRequested = false;
  private stopReason: "stopped" | "disk_full" | null = null;
  private readonly restarts: Restarts;
  private readonly warnings: StreamWarnings;
  /** Where the session's frame times come from: its camera's kind decides, once. */
  private readonly timeSource: ReturnType<typeof timeSourceOf>;
  private startedUs: number | null = null;
  /**
   * The session's grid zero, epoch µs: `at`, or the first run's timeline zero (the first frame ffmpeg
   * read, which for a copied H.264 stream can precede the first keyframe it records). Batches are cut
   * on zero + k × batch_duration and ffmpeg's -t counts from it.
   */
  private gridZeroUs: number | null = null;
  /** Where the last batch on disk ends (wall-clock µs): a gap starts here. */
  private lastEndUs: number | null = null;
  private lostSinceLastRun = 0;
  private lastExit: Exit = { code: 0, signal: null, forced: "none" };
  private lastError: string | null = null;
  /** Set when a write failed for lack of space: the session ends with it, state error. */
  private diskFullError: string | null = null;
  private resolveDone!: (r: RecordingResult) => void;
  /** A batch ffmpeg wrote is not in the manifest: no session-end, so recovery lists it at the next start. */
  private unlisted = false;
  private finished = false;
  /** The longest keyframe interval of the session's runs (µs), 0 before two keyframes. */
  private keyframeIntervalUs = 0;
  /**
   * A crashed run's last batch with frames: held until a later run has a frame on disk (then it is
   * not the session's last) or the session ends (then it is, and is marked `last`).
   */
  private carried: { run: FfmpegRun; batch: AssembledBatch } | null = null;
  /** A restarted run's first frame (wall-clock µs): its gap event follows the carried batch. */
  private gapEndUs: number | null = null;

  constructor(
    private readonly opts: RecordingOptions,
    private readonly deps: RecordingDeps,
  ) {
    this.timeSource = timeSourceOf(cameraKind(opts.recorder.camera));
    this.finalizer = new BatchFinalizer({
      node: opts.node,
      session: opts.session,
      sessionDir: opts.sessionDir,
      ffmpegPath: opts.ffmpegPath,
      childEnv: deps.childEnv,
      log: deps.log,
      announce: deps.announce,
      clock: deps.clock,
      timeSource: this.timeSource,
      latencyUs: opts.latencyUs ?? 0,
    });
    this.restarts = new Restarts(opts.restartPolicy, deps.timers);
    this.warnings = new StreamWarnings((e) => deps.event?.(e), deps.log);
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
    const outcome = await run.firstFrameWithin(opts.startTimeoutMs, opts.pollMs ?? 500);
    if (outcome === "frame") return;
    if (outcome !== "exit") await run.ffmpeg.stop(opts.stopTimeoutMs);
    await this.done;
    const camera = redactUrl(opts.recorder.camera);
    if (outcome === "coarse")
      throw new InexactTimesError(
        `ffmpeg reads ${camera} with ${run.inputFormat ?? "a demuxer"} on a ${run.coarse} s clock, not with each frame's arrival time: not recorded (for an MJPEG camera, --stream-format mjpeg keeps µs arrival times)`,
        run.inputFormat,
      );
    throw new CameraUnavailableError(
      outcome === "timeout"
        ? `no frame from ${camera} within ${opts.startTimeoutMs / 1000} s`
        : `camera ${camera} failed: ${run.firstError ?? "ffmpeg exited before the first frame"}`,
    );
  }

  /** Ends the session: ffmpeg finishes the last, shorter batch; resolves when all are announced. */
  async stop(reason: "stopped" | "disk_full" = "stopped"): Promise<RecordingResult> {
    this.stopReason ??= reason;
    this.stopRequested = true;
    // Between two runs: nothing is recording, end the session here.
    if (this.restarts.cancel()) this.end(this.stopReason);
    await this.run?.ffmpeg.stop(this.opts.stopTimeoutMs);
    return this.done;
  }

  /**
   * A write failed for lack of space (the node's own files, or ffmpeg's): the session ends now as
   * `disk_full`, with the error kept for the state. What is already on disk stays as it is; batches
   * that could not be listed are finished by recovery at the next start (no session-end is written).
   */
  diskFull(what: string): void {
    if (this.diskFullError) return;
    this.diskFullError = `disk full: ${what}`;
    this.deps.log.error({ what }, "disk full: stopping the session");
    this.deps.event?.(diskFullEvent(what));
    void this.stop("disk_full");
  }

  private spawn(index: number): FfmpegRun {
    const restart = index > 0 ? restartAnchor(this.opts, this.gridZeroUs, this.now() * 1000) : null;
    const { opts, deps } = this;
    const args = runArgs(opts, this.nextSeq, restart);
    deps.log.info({ run: index, cmd: displayArgs([opts.ffmpegPath, ...args]) }, "ffmpeg spawn");
    const holdback = new BatchHoldback();
    const release = (batches: AssembledBatch[]): void => batches.forEach((b) => this.enqueue(run, b, false));
    const run = new FfmpegRun({
      index,
      ffmpegPath: opts.ffmpegPath,
      args,
      sessionDir: opts.sessionDir,
      timelineFile: path.join(opts.sessionDir, timelineFile(index)),
      launcher: opts.launcher,
      ...(deps.spawn ? { spawn: deps.spawn } : {}),
      ...(deps.timers ? { timers: deps.timers } : {}),
      firstSeq: this.nextSeq,
      fileForSeq: (seq) => batchFileName(opts.node, opts.session, seq),
      alignToUs: restart?.gridUs ?? opts.recorder.alignToUs ?? null,
      log: deps.log,
      onBatches: (batches) => {
        // A batch of this run closed: its frames are on disk, so an earlier run's is not the last.
        if (batches.length > 0) this.flushCarried();
        batches.forEach((b) => release(holdback.closed(b, run.assembler.openSpanUs)));
        this.keyframeIntervalUs = Math.max(this.keyframeIntervalUs, run.assembler.maxKeyframeIntervalUs);
        this.warnings.keyframes(run.assembler.maxKeyframeIntervalUs, opts.recorder.batchDuration);
      },
      onFrame: () => {
        if (run.assembler.openSpanUs >= FLUSHED_SPAN_US) this.flushCarried();
        release(holdback.release(run.assembler.openSpanUs));
      },
      onFirstFrame: () => this.onFirstFrame(run),
      onCoarseTimebase: (message) => this.warnings.coarseTimebase(message),
      // A network camera's frames carry their arrival times: a frame-counting clock is refused.
      refuseCoarse: cameraKind(opts.recorder.camera) === "stream",
    });
    run.start();
    this.run = run;
    void run.ffmpeg.exited.then((exit) => this.onExit(run, exit, holdback.drain()));
    return run;
  }

  private onFirstFrame(run: FfmpegRun): void {
    const anchor = run.anchorUs;
    const first = run.assembler.firstFramePtsUs;
    if (anchor === null || first === null) {
      this.deps.log.error("ffmpeg never reported the input start time");
      return;
    }
    // A frame time as published: stamped, less the latency correction (the grid stays on stamped time).
    const firstUs = anchor + first - (this.opts.latencyUs ?? 0);
    if (run.index === 0) {
      this.startedUs = firstUs;
      this.gridZeroUs = anchor;
    }
    // On disk before any batch of this run is finalized: recovery after a crash needs the anchor.
    const record = {
      attempt: run.index,
      timeline: timelineFile(run.index),
      anchor_us: anchor,
      first_seq: this.nextSeq,
      mux_shift: "first_at_zero" as const,
      time_source: this.timeSource,
      ...(this.opts.latencyUs ? { latency_us: this.opts.latencyUs } : {}),
    };
    this.chain = this.chain
      .then(() => appendAttempt(this.opts.sessionDir, record))
      .catch((err: unknown) => this.writeFailed(err, "the session's attempts record"));
    if (run.index > 0) {
      this.gapEndUs = firstUs;
      // Else the gap starts where the carried batch ends: told once it is listed (flushCarried).
      if (!this.carried) this.chain = this.chain.then(() => this.emitGap());
    }
  }

  /** The gap since the last batch on disk, closed by a restarted run's first frame. */
  private emitGap(): void {
    if (this.gapEndUs === null) return;
    this.deps.event?.(gapEvent(this.lastEndUs ?? this.gapEndUs, this.gapEndUs, this.lostSinceLastRun));
    this.lostSinceLastRun = 0;
    this.gapEndUs = null;
  }

  /** A later run has a frame on disk: the carried batch is not the session's last. */
  private flushCarried(): void {
    const carried = this.carried;
    if (!carried) return;
    this.carried = null;
    this.chain = this.chain.then(async () => {
      await this.finalizeOne(carried.run, carried.batch, false);
      this.emitGap();
    });
  }

  /** `held`: the run's closed batches not yet finalized (batch-holdback.ts). */
  private onExit(run: FfmpegRun, exit: Exit, held: AssembledBatch[]): void {
    this.run = null;
    this.keyframeIntervalUs = Math.max(this.keyframeIntervalUs, run.assembler.maxKeyframeIntervalUs);
    this.framesOfEndedRuns += run.frames;
    this.lastExit = exit;
    if (run.noSpace && !this.stopRequested)
      this.diskFull(`ffmpeg could not write: ${run.firstError ?? "no space"}`);
    const crashed = isCrash({
      stopRequested: this.stopRequested,
      exitCode: exit.code,
      durationS: this.opts.recorder.duration,
      anchorUs: run.anchorUs,
      lastFrameEndPtsUs: run.assembler.lastFrameEndPtsUs,
      zeroUs: this.gridZeroUs,
      nowUs: this.now() * 1000,
    });
    const why = run.firstError ?? `ffmpeg exited with ${exit.code ?? exit.signal}`;
    let delay: number | null = null;
    if (crashed) {
      this.lastError = why;
      this.restarts.failed(this.now());
      // A first run that never delivered a frame is a camera that is not there: start() reports it.
      if (this.startedUs !== null) delay = this.restarts.delay(this.now());
    }
    const rest = [...held, ...run.assembler.finish()];
    if (delay === null) {
      this.enqueueFinal(run, rest);
      this.end(crashed ? "failed" : this.stopRequested ? (this.stopReason ?? "stopped") : "completed");
      return;
    }
    for (const b of rest) this.nextSeq = Math.max(this.nextSeq, b.seq + 1);
    this.deps.log.warn({ exit, delay_ms: delay, failures: this.restarts.count }, "ffmpeg died, restarting");
    this.deps.event?.(restartedEvent(why, delay));
    this.chain = this.chain.then(async () => {
      // The run's last batch with a frame on disk is carried: the session may end before another has
      // one. An empty batch after it is dropped now, so the next run reuses its number.
      const keep = await this.finalizer.lastWithFrames(rest).catch(() => rest.length - 1);
      if (keep >= 0 && this.carried) {
        await this.finalizeOne(this.carried.run, this.carried.batch, false);
        this.carried = null;
      }
      if (keep >= 0) this.emitGap();
      for (const [i, b] of rest.entries()) if (i !== keep) await this.finalizeOne(run, b, false);
      if (keep >= 0) this.carried = { run, batch: rest[keep]! };
      // A stop that came while the partial batch was being repaired ends the session here.
      if (this.stopRequested) return this.end(this.stopReason ?? "stopped");
      this.restarts.schedule(delay, () => {
        let next: FfmpegRun;
        try {
          next = this.spawn(run.index + 1);
        } catch (err) {
          // e.g. the session folder is gone: nothing more can be recorded into it.
          this.lastError = (err as Error).message;
          return this.end("failed");
        }
        void next
          .firstFrameWithin(this.opts.startTimeoutMs, this.opts.pollMs ?? 500)
          .then(async (outcome) => {
            // A run that hangs without frames counts as a failure: its exit takes the same path.
            if (outcome === "timeout") await next.ffmpeg.stop(this.opts.stopTimeoutMs);
          });
      });
    });
  }

  private end(reason: RecordingResult["reason"]): void {
    if (this.finished) return;
    this.finished = true;
    if (this.carried) this.enqueueFinal(this.carried.run, []);
    this.chain = this.chain.then(async () => {
      const error = endError(reason, this.restarts.count, this.lastError, this.diskFullError);
      const { batches } = this.finalizer;
      await closeSession(this.finalizer, this.opts.sessionDir, this.deps.log, {
        reason,
        batches,
        endedAt: new Date(this.now()),
        unlisted: this.unlisted,
      });
      const result = { batches, frames: this.framesOfEndedRuns, exit: this.lastExit, reason };
      const keyframes = this.keyframeIntervalUs > 0 ? this.keyframeIntervalUs : null;
      this.deps.log.info({ ...result, keyframe_interval_us: keyframes }, "recording ended");
      this.resolveDone({
        ...result,
        ...(error ? { error } : {}),
        ...(keyframes ? { keyframeIntervalUs: keyframes } : {}),
      });
    });
  }

  private writeFailed(err: unknown, what: string): void {
    this.deps.log.error({ err, what }, "write failed");
    if (isNoSpace(err)) this.diskFull(`${what} (${(err as Error).message})`);
  }

  private enqueue(run: FfmpegRun, batch: AssembledBatch, last: boolean): void {
    this.nextSeq = Math.max(this.nextSeq, batch.seq + 1);
    this.chain = this.chain.then(() => this.finalizeOne(run, batch, last));
  }

  /**
   * The session's final batches, after a carried one: the last with a frame on disk is marked `last`.
   * A restarted run's gap is told before its first batch with frames, none if it has none.
   */
  private enqueueFinal(run: FfmpegRun, batches: AssembledBatch[]): void {
    for (const b of batches) this.nextSeq = Math.max(this.nextSeq, b.seq + 1);
    const carried = this.carried ? [this.carried] : [];
    const all = [...carried, ...batches.map((batch) => ({ run, batch }))];
    this.carried = null;
    this.chain = this.chain.then(async () => {
      const last = await this.finalizer.lastWithFrames(all.map((p) => p.batch)).catch(() => all.length - 1);
      for (const [i, p] of all.entries()) {
        if (i >= carried.length && i <= last) this.emitGap();
        await this.finalizeOne(p.run, p.batch, i === last);
      }
    });
  }

  private async finalizeOne(run: FfmpegRun, batch: AssembledBatch, last: boolean): Promise<void> {
    try {
      if (run.anchorUs === null) throw new Error("ffmpeg never reported the input start time");
      const result = await this.finalizer.finalize(batch, run.anchorUs, last);
      if (result.batch) this.lastEndUs = result.endUs;
      // A batch ffmpeg had just opened when it died holds no frame and is dropped: the next run
      // reuses its number, so the session's numbering has no hole (a gap event tells the loss).
      else if (batch.seq === this.nextSeq - 1) this.nextSeq = batch.seq;
      this.lostSinceLastRun += result.framesLost;
    } catch (err) {
      this.unlisted = true;
      this.writeFailed(err, `batch ${batch.seq} could not be finalized`);
    }
  }
}
