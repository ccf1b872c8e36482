import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { batchFileName } from "../data/paths.js";
import { appendAttempt, ATTEMPTS_FILE, SESSION_END_FILE, timelineFile } from "../data/session-files.js";
import type { AssembledBatch } from "../ffmpeg/batch-assembler.js";
import { BatchFinalizer } from "../data/batch-finalizer.js";
import { cameraKind, displayArgs, timeSourceOf } from "../ffmpeg/ffmpeg-args.js";
import type { Exit } from "../process/child-runner.js";
import { FfmpegRun } from "../ffmpeg/ffmpeg-run.js";
import { redactUrl } from "../../platform/secrets.js";
import { restartAnchor, runArgs } from "../session/session-plan.js";
import { BatchHoldback, FLUSHED_SPAN_US } from "../session/batch-holdback.js";
import { gapEvent, StreamWarnings } from "../session/session-events.js";
import { isCrash } from "../session/restart-policy.js";
import {
  CameraUnavailableError,
  InexactTimesError,
  type SessionDeps,
  type CameraOptions,
} from "../session/session-types.js";
import type { RunEnd, SessionContext, SessionSource, SourceRun } from "../session/session-supervisor.js";

/** One ffmpeg of the session, with the batches it closed that wait for its next frame. */
export interface CameraRun extends SourceRun {
  readonly run: FfmpegRun;
  readonly holdback: BatchHoldback;
}

/**
 * The camera through ffmpeg (session-supervisor.ts runs the loop): each run's batches are finalized
 * in order; a run that dies has its partial batch repaired and announced, and the next run continues
 * the numbering on the session's grid, its first frame closing a `gap` event with the exact wall-clock
 * window lost.
 */
export class CameraSource implements SessionSource<CameraRun> {
  readonly name = "ffmpeg";
  readonly finalizer: BatchFinalizer;
  /** Frames of the runs that have ended (the current run counts its own). */
  private framesOfEndedRuns = 0;
  private nextSeq = 0;
  private readonly warnings: StreamWarnings;
  /** Where the session's frame times come from: its camera's kind decides, once. */
  private readonly timeSource: ReturnType<typeof timeSourceOf>;
  private startedUs: number | null = null;
  /**
   * The session's grid zero, epoch µs: `at`, or the first run's timeline zero (the first frame ffmpeg read,
   * maybe before a copied H.264 stream's first keyframe): batches are cut on zero + k × batch_duration.
   */
  private gridZeroUs: number | null = null;
  /** Where the last batch on disk ends (wall-clock µs): a gap starts here. */
  private lastEndUs: number | null = null;
  private lostSinceLastRun = 0;
  /** The longest keyframe interval of the session's runs (µs), 0 before two keyframes. */
  private keyframeIntervalUs = 0;
  /** A crashed run's last batch with frames, held until a later run has a frame on disk or the session ends (`last`). */
  private carried: { run: FfmpegRun; batch: AssembledBatch } | null = null;
  /** A restarted run's first frame (wall-clock µs): its gap event follows the carried batch. */
  private gapEndUs: number | null = null;

  constructor(
    private readonly opts: CameraOptions,
    private readonly deps: SessionDeps,
    private readonly session: SessionContext,
  ) {
    this.timeSource = timeSourceOf(cameraKind(opts.capture.camera));
    this.finalizer = new BatchFinalizer({
      node: opts.node,
      session: opts.session,
      sessionDir: opts.sessionDir,
      ffmpegPath: opts.ffmpegPath,
      childEnv: deps.childEnv,
      log: deps.log,
      announce: deps.announce,
      syncStatus: deps.syncStatus,
      timeSource: this.timeSource,
      latencyUs: opts.latencyUs ?? 0,
    });
    this.warnings = new StreamWarnings((e) => session.event(e), deps.log);
  }

  get startedAtUs(): number | null {
    return this.startedUs;
  }

  async prepare(): Promise<void> {
    const { sessionDir } = this.opts;
    await mkdir(sessionDir, { recursive: true });
    // Left by an earlier start of this name that never recorded a frame (it has no manifest).
    await rm(path.join(sessionDir, ATTEMPTS_FILE), { force: true });
    await rm(path.join(sessionDir, SESSION_END_FILE), { force: true });
  }

  async first({ run }: CameraRun): Promise<string> {
    const outcome = await run.firstFrameWithin(this.opts.startTimeoutMs, this.opts.pollMs ?? 500);
    return outcome === "frame" ? "ok" : outcome;
  }

  startError({ run }: CameraRun, outcome: string): Error {
    const { opts } = this;
    const camera = redactUrl(opts.capture.camera);
    if (outcome === "coarse")
      return new InexactTimesError(
        `ffmpeg reads ${camera} with ${run.inputFormat ?? "a demuxer"} on a ${run.coarse} s clock, not with each frame's arrival time: not recorded (for an MJPEG camera, --stream-format mjpeg keeps µs arrival times)`,
        run.inputFormat,
      );
    return new CameraUnavailableError(
      outcome === "timeout"
        ? `no frame from ${camera} within ${opts.startTimeoutMs / 1000} s`
        : `camera ${camera} failed: ${run.firstError ?? "ffmpeg exited before the first frame"}`,
    );
  }

  spawn(index: number): CameraRun {
    const restart = index > 0 ? restartAnchor(this.opts, this.gridZeroUs, this.session.now() * 1000) : null;
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
      clock: deps.clock,
      firstSeq: this.nextSeq,
      fileForSeq: (seq) => batchFileName(opts.node, opts.session, seq),
      alignToUs: restart?.gridUs ?? opts.capture.alignToUs ?? null,
      log: deps.log,
      onBatches: (batches) => {
        // A batch of this run closed: its frames are on disk, so an earlier run's is not the last.
        if (batches.length > 0) this.flushCarried();
        batches.forEach((b) => release(holdback.closed(b, run.assembler.openSpanUs)));
        this.keyframeIntervalUs = Math.max(this.keyframeIntervalUs, run.assembler.maxKeyframeIntervalUs);
        this.warnings.keyframes(run.assembler.maxKeyframeIntervalUs, opts.capture.batchDuration);
      },
      onFrame: () => {
        if (run.assembler.openSpanUs >= FLUSHED_SPAN_US) this.flushCarried();
        release(holdback.release(run.assembler.openSpanUs));
      },
      onFirstFrame: () => this.onFirstFrame(run),
      onCoarseTimebase: (message) => this.warnings.coarseTimebase(message),
      // A network camera's frames carry their arrival times: a frame-counting clock is refused.
      refuseCoarse: cameraKind(opts.capture.camera) === "stream",
    });
    run.start();
    return {
      index,
      run,
      holdback,
      exited: run.ffmpeg.exited,
      stop: (ms) => run.ffmpeg.stop(ms).then(() => {}),
    };
  }

  /** A restarted run that hangs without frames counts as a failure: its exit takes the same path. */
  restarted({ run }: CameraRun): void {
    void run.firstFrameWithin(this.opts.startTimeoutMs, this.opts.pollMs ?? 500).then(async (outcome) => {
      if (outcome === "timeout") await run.ffmpeg.stop(this.opts.stopTimeoutMs);
    });
  }

  ended({ run, holdback }: CameraRun, exit: Exit): RunEnd {
    // `held`: the run's closed batches not yet finalized (batch-holdback.ts).
    const held = holdback.drain();
    const { session } = this;
    this.keyframeIntervalUs = Math.max(this.keyframeIntervalUs, run.assembler.maxKeyframeIntervalUs);
    this.framesOfEndedRuns += run.frames;
    if (run.noSpace && !session.stopRequested())
      session.diskFull(`ffmpeg could not write: ${run.firstError ?? "no space"}`);
    const crashed = isCrash({
      stopRequested: session.stopRequested(),
      exitCode: exit.code,
      durationS: this.opts.capture.duration,
      anchorUs: run.anchorUs,
      lastFrameEndPtsUs: run.assembler.lastFrameEndPtsUs,
      zeroUs: this.gridZeroUs,
      nowUs: session.now() * 1000,
    });
    const rest = [...held, ...run.assembler.finish()];
    for (const b of rest) this.nextSeq = Math.max(this.nextSeq, b.seq + 1);
    return {
      crashed,
      why: run.firstError ?? `ffmpeg exited with ${exit.code ?? exit.signal}`,
      // A first run that never delivered a frame is a camera that is not there: start() reports it.
      restartable: this.startedUs !== null,
      finish: () => this.enqueueFinal(run, rest),
      handOver: async () => {
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
      },
    };
  }

  ending(): void {
    if (this.carried) this.enqueueFinal(this.carried.run, []);
  }

  result(): { frames: number; keyframeIntervalUs?: number } {
    return {
      frames: this.framesOfEndedRuns,
      ...(this.keyframeIntervalUs > 0 ? { keyframeIntervalUs: this.keyframeIntervalUs } : {}),
    };
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
    this.session.queue(
      () => appendAttempt(this.opts.sessionDir, record),
      (err) => this.session.writeFailed(err, "the session's attempts record"),
    );
    if (run.index > 0) {
      this.gapEndUs = firstUs;
      // Else the gap starts where the carried batch ends: told once it is listed (flushCarried).
      if (!this.carried) this.session.queue(() => this.emitGap());
    }
  }

  /** The gap since the last batch on disk, closed by a restarted run's first frame. */
  private emitGap(): void {
    if (this.gapEndUs === null) return;
    this.session.event(gapEvent(this.lastEndUs ?? this.gapEndUs, this.gapEndUs, this.lostSinceLastRun));
    this.lostSinceLastRun = 0;
    this.gapEndUs = null;
  }

  /** A later run has a frame on disk: the carried batch is not the session's last. */
  private flushCarried(): void {
    const carried = this.carried;
    if (!carried) return;
    this.carried = null;
    this.session.queue(async () => {
      await this.finalizeOne(carried.run, carried.batch, false);
      this.emitGap();
    });
  }

  private enqueue(run: FfmpegRun, batch: AssembledBatch, last: boolean): void {
    this.nextSeq = Math.max(this.nextSeq, batch.seq + 1);
    this.session.queue(() => this.finalizeOne(run, batch, last));
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
    this.session.queue(async () => {
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
      this.session.unlisted();
      this.session.writeFailed(err, `batch ${batch.seq} could not be finalized`);
    }
  }
}
