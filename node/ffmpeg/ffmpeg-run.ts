import type { Logger } from "pino";
import { BatchAssembler, type AssembledBatch } from "./batch-assembler.js";
import { parseInputFormat, parseInputStart, parseStderrLine, parseStdoutLine } from "./ffmpeg-output.js";
import { ChildRunner, type SpawnFn } from "../process/child-runner.js";
import type { Clock } from "../../platform/clock.js";
import { redactUrl } from "../../platform/secrets.js";

export interface FfmpegRunOptions {
  /** 0 for the session's first ffmpeg, then 1, 2… after restarts. */
  index: number;
  ffmpegPath: string;
  args: readonly string[];
  sessionDir: string;
  /** This run's stdout file (its timeline). */
  timelineFile: string;
  launcher: readonly string[];
  spawn?: SpawnFn;
  /** The first-frame wait, the stop ladder and the output polling (platform/clock.ts). */
  clock: Clock;
  /** Number of this run's first batch, and the name of batch n. */
  firstSeq: number;
  fileForSeq: (seq: number) => string;
  /** A synchronized start's `at` (epoch µs): the timeline's zero instead of the input's start. */
  alignToUs: number | null;
  log: Logger;
  /** Batches the run's output completed, in order. */
  onBatches: (batches: AssembledBatch[]) => void;
  onFirstFrame: () => void;
  /** Each frame reported, after onBatches for the batch it closed. */
  onFrame?: () => void;
  /** The source's time base is coarser than 1 ms (e.g. 1/25 s for some MJPEG streams). */
  onCoarseTimebase: (message: string) => void;
  /**
   * A coarse time base is refused (a network camera, whose frames should carry µs arrival stamps):
   * the run reads nothing more and firstFrameWithin says "coarse".
   */
  refuseCoarse?: boolean;
}

/**
 * One ffmpeg process of a session: spawns it, reads its timeline (frames and closed batches) and its
 * log, and knows its time anchor, frame count and first error. What the session does with them
 * (finalizing, restarting, gap events) is the session's (camera-source.ts, session-supervisor.ts).
 */
export class FfmpegRun {
  readonly index: number;
  readonly ffmpeg: ChildRunner;
  readonly assembler: BatchAssembler;
  /** Epoch µs this run's pts count from, once ffmpeg printed its input's start. */
  anchorUs: number | null = null;
  private firstFrameNotified = false;
  frames = 0;
  /** ffmpeg's first error line: the cause (later ones are consequences). */
  firstError: string | null = null;
  /** ffmpeg said its disk is full: no restart can help. */
  noSpace = false;
  /** ffmpeg's demuxer for the input (its "Input #0" line). */
  inputFormat: string | null = null;
  /** The coarse time base refused (refuseCoarse), as "num/den". */
  coarse: string | null = null;
  private refused!: () => void;
  private readonly coarseSeen = new Promise<void>((r) => (this.refused = r));
  private firstFrame!: () => void;
  private readonly firstFrameSeen = new Promise<void>((r) => (this.firstFrame = r));

  constructor(private readonly o: FfmpegRunOptions) {
    this.index = o.index;
    this.assembler = new BatchAssembler(o.fileForSeq, o.firstSeq);
    this.ffmpeg = new ChildRunner(
      o.ffmpegPath,
      o.args,
      o.sessionDir,
      {
        launcher: o.launcher,
        clock: o.clock,
        stdoutFile: o.timelineFile,
        stdout: (l) => this.onStdout(l),
        stderr: (l) => this.onStderr(l),
      },
      o.spawn,
    );
  }

  /** Spawns this run's ffmpeg (see ChildRunner.start). */
  start(): void {
    this.ffmpeg.start();
  }

  /** Waits for the first frame (then reads output every pollMs), ffmpeg's exit, or the timeout. */
  async firstFrameWithin(
    timeoutMs: number,
    pollMs: number,
  ): Promise<"frame" | "exit" | "timeout" | "coarse"> {
    const { clock } = this.o;
    let timer: unknown;
    const outcome = await Promise.race([
      this.firstFrameSeen.then(() => "frame" as const),
      this.coarseSeen.then(() => "coarse" as const),
      this.ffmpeg.exited.then(() => "exit" as const),
      new Promise<"timeout">((r) => (timer = clock.setTimeout(() => r("timeout"), timeoutMs))),
    ]);
    clock.clearTimeout(timer);
    if (outcome === "frame") this.ffmpeg.pollEvery(pollMs);
    return outcome;
  }

  private onStdout(line: string): void {
    if (this.coarse) return;
    try {
      const parsed = parseStdoutLine(line);
      if (parsed.kind === "timebase" && parsed.den / parsed.num < 1000 && this.o.refuseCoarse) {
        this.coarse = `${parsed.num}/${parsed.den}`;
        this.refused();
        return;
      }
      if (parsed.kind === "timebase" && parsed.den / parsed.num < 1000) {
        this.o.onCoarseTimebase(
          `the camera's time base is ${parsed.num}/${parsed.den} s: frame and batch times are quantized to ${Math.round((parsed.num / parsed.den) * 1000)} ms`,
        );
      }
      const done = this.assembler.push(parsed);
      if (done.length > 0) this.o.onBatches(done);
      if (parsed.kind !== "frame") return;
      if (++this.frames === 1) this.firstFrameKnown();
      this.o.onFrame?.();
    } catch (err) {
      this.o.log.error({ err, line }, "ffmpeg output not understood");
    }
  }

  /**
   * The first frame is known once it is on stdout and the input's start on stderr: two pipes, read in
   * either order (a busy machine delivered the frame first, and the session, without its anchor, was
   * taken to have failed at its end).
   */
  private firstFrameKnown(): void {
    if (this.firstFrameNotified || this.frames === 0 || this.anchorUs === null) return;
    this.firstFrameNotified = true;
    this.firstFrame();
    this.o.onFirstFrame();
  }

  private onStderr(line: string): void {
    this.inputFormat ??= parseInputFormat(line);
    const start = parseInputStart(line);
    // An aligned recording's timeline starts at `at` (see CameraArgs.alignToUs), not at the input's start.
    if (start !== null && this.anchorUs === null) {
      this.anchorUs = this.o.alignToUs ?? start;
      this.firstFrameKnown();
    }
    // ffmpeg names its input in errors, password included: it never goes further than this line.
    const { level, text } = parseStderrLine(redactUrl(line));
    if (level === "error") this.firstError ??= text;
    if (/No space left on device|Disk quota exceeded/i.test(text)) this.noSpace = true;
    this.o.log[level]({ ffmpeg: text }, "ffmpeg");
  }
}
