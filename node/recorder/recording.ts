import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { BatchReady } from "../generated/payloads.js";
import { hashFile } from "../batches/hash.js";
import { renderSidecar, sidecarName, writeSidecar } from "../batches/frames-sidecar.js";
import { Manifest } from "../batches/manifest.js";
import { batchFileName, batchFilePattern, isoMicros } from "../batches/paths.js";
import { BatchAssembler, type AssembledBatch } from "./batch-assembler.js";
import { buildFfmpegArgs, displayArgs, type RecorderArgs } from "./ffmpeg-args.js";
import { parseInputStart, parseStderrLine, parseStdoutLine } from "./ffmpeg-output.js";
import { FfmpegProcess, type Exit, type SpawnFn } from "./ffmpeg-process.js";

export interface RecordingOptions {
  node: string;
  session: string;
  sessionDir: string;
  ffmpegPath: string;
  launcher: readonly string[];
  recorder: Omit<RecorderArgs, "filePattern">;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** How often ffmpeg's output is read once recording runs: the latency of a batch announcement. */
  pollMs?: number;
}

/** ffmpeg's stdout in the session folder: framecrc lines (every frame's time) and the batch list. */
export const TIMELINE_FILE = "ffmpeg-timeline.txt";

export interface RecordingDeps {
  log: Logger;
  /** Announces a batch; called in order, after its manifest line is on disk. */
  announce: (batch: BatchReady) => Promise<void>;
  clock: () => BatchReady["clock"];
  /** A warning worth an event (not a failure): the controller publishes it. */
  warn?: (type: "coarse_timestamps", message: string) => void;
  spawn?: SpawnFn;
}

export interface RecordingResult {
  batches: number;
  frames: number;
  exit: Exit;
  /** Why the recording ended: asked to stop, its duration ran out, or ffmpeg failed. */
  reason: "stopped" | "completed" | "failed";
  error?: string;
}

export class CameraUnavailableError extends Error {}

/**
 * One session: one ffmpeg, its batches finalized strictly in order (hash, manifest line fsync'ed,
 * then announcement). `start()` resolves at the first captured frame; `done` when ffmpeg has exited
 * and every batch it wrote is on disk, in the manifest and announced.
 */
export class Recording {
  readonly done: Promise<RecordingResult>;
  private ffmpeg: FfmpegProcess | null = null;
  private anchorUs: number | null = null;
  private readonly assembler: BatchAssembler;
  private readonly manifest: Manifest;
  private chain: Promise<void> = Promise.resolve();
  private batches = 0;
  private frames = 0;
  /** Frames in batches finalized so far: the session-wide index of the next batch's first frame. */
  private framesAnnounced = 0;
  private stopRequested = false;
  private firstError: string | null = null;
  private firstFrame!: () => void;
  private readonly firstFrameSeen = new Promise<void>((r) => (this.firstFrame = r));
  private resolveDone!: (r: RecordingResult) => void;

  constructor(
    private readonly opts: RecordingOptions,
    private readonly deps: RecordingDeps,
  ) {
    this.assembler = new BatchAssembler((seq) => batchFileName(opts.node, opts.session, seq));
    this.manifest = Manifest.inDir(opts.sessionDir);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get batchCount(): number {
    return this.batches;
  }

  /** Wall-clock µs of the first frame, once known (not the anchor: a synchronized start anchors at `at`). */
  get startedAtUs(): number | null {
    const first = this.assembler.firstFramePtsUs;
    return this.anchorUs === null || first === null ? null : this.anchorUs + first;
  }

  async start(): Promise<void> {
    const { opts, deps } = this;
    await mkdir(opts.sessionDir, { recursive: true });
    const args = buildFfmpegArgs({
      ...opts.recorder,
      filePattern: batchFilePattern(opts.node, opts.session),
    });
    deps.log.info({ session: opts.session, cmd: displayArgs([opts.ffmpegPath, ...args]) }, "ffmpeg spawn");
    const ffmpeg = new FfmpegProcess(
      opts.ffmpegPath,
      args,
      opts.sessionDir,
      {
        launcher: opts.launcher,
        stdoutFile: path.join(opts.sessionDir, TIMELINE_FILE),
        stdout: (l) => this.onStdout(l),
        stderr: (l) => this.onStderr(l),
      },
      deps.spawn,
    );
    this.ffmpeg = ffmpeg;
    void ffmpeg.exited.then((exit) => this.onExit(exit));

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.firstFrameSeen.then(() => "frame" as const),
      ffmpeg.exited.then(() => "exit" as const),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), opts.startTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === "frame") {
      ffmpeg.pollEvery(opts.pollMs ?? 500);
      return;
    }
    if (outcome === "timeout") await ffmpeg.stop(opts.stopTimeoutMs);
    await this.done;
    throw new CameraUnavailableError(
      outcome === "timeout"
        ? `no frame from ${opts.recorder.camera} within ${opts.startTimeoutMs / 1000} s`
        : `camera ${opts.recorder.camera} failed: ${this.firstError ?? "ffmpeg exited before the first frame"}`,
    );
  }

  /** Ends the session: ffmpeg finishes the last, shorter batch; resolves when all are announced. */
  async stop(): Promise<RecordingResult> {
    this.stopRequested = true;
    await this.ffmpeg?.stop(this.opts.stopTimeoutMs);
    return this.done;
  }

  private onStdout(line: string): void {
    try {
      const parsed = parseStdoutLine(line);
      if (parsed.kind === "timebase" && parsed.den / parsed.num < 1000) {
        // e.g. jpeg_pipe or mpjpeg streams (1/25 s): arrival stamps are quantized to the tick.
        const msg = `the camera's time base is ${parsed.num}/${parsed.den} s: frame and batch times are quantized to ${Math.round((parsed.num / parsed.den) * 1000)} ms`;
        this.deps.log.warn(msg);
        this.deps.warn?.("coarse_timestamps", msg);
      }
      if (parsed.kind === "frame") {
        this.frames++;
        if (this.frames === 1) this.firstFrame();
      }
      for (const batch of this.assembler.push(parsed)) this.enqueue(batch);
    } catch (err) {
      this.deps.log.error({ err, line }, "ffmpeg output not understood");
    }
  }

  private onStderr(line: string): void {
    const start = parseInputStart(line);
    // An aligned recording's timeline starts at `at` (see RecorderArgs.alignToUs), not at the input's start.
    if (start !== null && this.anchorUs === null) this.anchorUs = this.opts.recorder.alignToUs ?? start;
    const { level, text } = parseStderrLine(line);
    // The first error is the cause; ffmpeg's later ones are consequences ("Error initializing output…").
    if (level === "error") this.firstError ??= text;
    this.deps.log[level]({ ffmpeg: text }, "ffmpeg");
  }

  private onExit(exit: Exit): void {
    const rest = this.assembler.finish();
    rest.forEach((batch, i) => this.enqueue(batch, i === rest.length - 1));
    const failed = !this.stopRequested && exit.code !== 0;
    this.chain = this.chain.then(async () => {
      await this.manifest.close();
      const reason = failed ? "failed" : this.stopRequested ? "stopped" : "completed";
      this.deps.log.info(
        { session: this.opts.session, exit, batches: this.batches, frames: this.frames, reason },
        "recording ended",
      );
      this.resolveDone({
        batches: this.batches,
        frames: this.frames,
        exit,
        reason,
        ...(failed ? { error: this.firstError ?? `ffmpeg exited with ${exit.code ?? exit.signal}` } : {}),
      });
    });
  }

  private enqueue(batch: AssembledBatch, last = false): void {
    this.chain = this.chain
      .then(() => this.finalize(batch, last))
      .catch((err: unknown) => this.deps.log.error({ err, seq: batch.seq }, "batch could not be finalized"));
  }

  private async finalize(b: AssembledBatch, last: boolean): Promise<void> {
    const { opts, deps } = this;
    if (this.anchorUs === null) throw new Error("ffmpeg never reported the input start time");
    const first = b.framePtsUs[0];
    if (first === undefined) return;
    const file = path.join(opts.sessionDir, b.file);
    const { sha256, bytes } = await hashFile(file);
    const framesFile = sidecarName(b.file);
    await writeSidecar(
      path.join(opts.sessionDir, framesFile),
      renderSidecar(this.framesAnnounced, this.anchorUs, b.framePtsUs),
    );
    this.framesAnnounced += b.framePtsUs.length;
    const startUs = this.anchorUs + first;
    const endUs = this.anchorUs + b.endPtsUs;
    const batch: BatchReady = {
      node: opts.node,
      session: opts.session,
      seq: b.seq,
      file: `${opts.session}/${b.file}`,
      start: isoMicros(startUs),
      end: isoMicros(endUs),
      duration_s: Math.round(endUs - startUs) / 1e6,
      frames: b.framePtsUs.length,
      frames_file: `${opts.session}/${framesFile}`,
      bytes,
      sha256,
      ...(last ? { last: true } : {}),
      clock: deps.clock(),
    };
    await this.manifest.append(batch);
    this.batches++;
    await deps.announce(batch);
  }
}
