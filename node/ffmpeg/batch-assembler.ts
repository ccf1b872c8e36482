import { muxShiftTicks } from "./stream-timestamps.js";
import type { StdoutLine } from "./ffmpeg-output.js";

/**
 * How ffmpeg muxed a run's timestamps (stream-timestamps.ts): "first_at_zero", every run now: the first
 * frame at zero with its time + 1 tick as its duration, the others moved back by MUX_SHIFT_EXPR; older timelines
 * that recovery may replay: "after_first" (all but the first moved back), "all", "none".
 */
export type MuxShift = "first_at_zero" | "after_first" | "all" | "none";

// Pure state machine over ffmpeg's ordered stdout (see ffmpeg-args.ts): frame lines accumulate
// into the open batch; a segment line closes it; the next frame gives its end, so consecutive
// batches share a boundary exactly and no time falls between them.

export interface AssembledBatch {
  seq: number;
  file: string;
  /** Frame pts in µs from the input's start (add the anchor for wall-clock). */
  framePtsUs: number[];
  /** Where the batch ends on the same scale: the next batch's first frame, or the last frame's end. */
  endPtsUs: number;
  /** False when ffmpeg died before closing the file (no list entry). */
  finalized: boolean;
  /** The resolution of its frame times: µs per tick of the stream's time base. */
  tickUs: number;
}

export class BatchAssembler {
  private frames: { pts: number; dur: number }[] = [];
  private pending: Omit<AssembledBatch, "endPtsUs"> | null = null;
  private seq: number;
  /** µs per tick of framecrc's time base; µs until a "#tb" line says otherwise. */
  private usPerTick = 1;
  /** Ticks ffmpeg moved timestamps back before muxing (MUX_SHIFT_EXPR), added back here. */
  private shiftTicks: number;
  private lastFrameEnd: number | null = null;
  private lastPts: number | null = null;
  private lastKeyPts: number | null = null;
  private maxKeyInterval = 0;
  /** The interval between the last two frames (µs): a frame's length when ffmpeg does not know it. */
  private lastIntervalUs: number | null = null;
  private first: number | null = null;

  /**
   * `firstSeq`: a restarted ffmpeg continues the session's numbering. `muxShift`: how the run's
   * timestamps were muxed (MuxShift); recovery replays older timelines as they were recorded.
   */
  constructor(
    private readonly fileForSeq: (seq: number) => string,
    firstSeq = 0,
    private readonly muxShift: MuxShift = "first_at_zero",
  ) {
    this.seq = firstSeq;
    this.shiftTicks = muxShift !== "none" ? muxShiftTicks(1, 1_000_000) : 0;
  }

  /** pts (µs) of the recording's first frame, once seen. */
  get firstFramePtsUs(): number | null {
    return this.first;
  }

  /** The longest interval between two keyframes seen (µs): where a copied stream can be cut. */
  get maxKeyframeIntervalUs(): number {
    return this.maxKeyInterval;
  }

  /** Where the last frame seen ends (µs, same scale), once any was seen. */
  get lastFrameEndPtsUs(): number | null {
    return this.lastFrameEnd;
  }

  /** From the first to the last frame of the batch ffmpeg is writing (µs), 0 before its second frame. */
  get openSpanUs(): number {
    return this.frames.length < 2 ? 0 : this.frames.at(-1)!.pts - this.frames[0]!.pts;
  }

  /** Feeds one parsed stdout line; returns the batches it completed (zero or one). */
  push(line: StdoutLine): AssembledBatch[] {
    switch (line.kind) {
      case "timebase":
        // Encoded sources are µs (-enc_time_base -1 on a µs input); a copied stream keeps its demuxer's.
        this.usPerTick = (line.num * 1_000_000) / line.den;
        this.shiftTicks = this.muxShift !== "none" ? muxShiftTicks(line.num, line.den) : 0;
        return [];
      case "frame": {
        const first = this.first === null;
        // (A first frame before zero keeps its time, printed below zero.)
        const atZero = first && this.muxShift === "first_at_zero" && line.pts >= 0;
        const ticks = atZero
          ? line.duration - 1
          : line.pts + (first && this.muxShift !== "all" ? 0 : this.shiftTicks);
        const pts = Math.round(ticks * this.usPerTick);
        if (this.lastPts !== null && pts > this.lastPts) this.lastIntervalUs = pts - this.lastPts;
        this.lastPts = pts;
        if (line.key) {
          if (this.lastKeyPts !== null)
            this.maxKeyInterval = Math.max(this.maxKeyInterval, pts - this.lastKeyPts);
          this.lastKeyPts = pts;
        }
        // ffmpeg says 1 tick when it has not measured the frame rate (the synthetic camera skips that
        // probe, ffmpeg-args.ts): a frame then lasts as long as the interval before it.
        // (The first frame muxed at zero carries its time as its duration: it lasts one tick here.)
        const dur = atZero
          ? Math.round(this.usPerTick)
          : line.duration <= 1 && this.lastIntervalUs !== null
            ? this.lastIntervalUs
            : Math.round(line.duration * this.usPerTick);
        const done: AssembledBatch[] = [];
        if (this.pending) {
          done.push({ ...this.pending, endPtsUs: pts });
          this.pending = null;
        }
        this.first ??= pts;
        this.frames.push({ pts, dur });
        this.lastFrameEnd = pts + dur;
        return done;
      }
      case "segment": {
        const done = this.flushPending();
        this.pending = {
          seq: this.seq,
          file: line.file,
          framePtsUs: this.frames.map((f) => f.pts),
          finalized: true,
          tickUs: this.usPerTick,
        };
        this.frames = [];
        this.seq++;
        return done;
      }
      case "other":
        return [];
    }
  }

  /** At ffmpeg's exit: the closed batch still waiting for its end, and frames in a file never closed. */
  finish(): AssembledBatch[] {
    const done = this.flushPending();
    if (this.frames.length > 0) {
      done.push({
        seq: this.seq,
        file: this.fileForSeq(this.seq),
        framePtsUs: this.frames.map((f) => f.pts),
        endPtsUs: this.lastFrameEnd!,
        finalized: false,
        tickUs: this.usPerTick,
      });
      this.frames = [];
      this.seq++;
    }
    return done;
  }

  private flushPending(): AssembledBatch[] {
    if (!this.pending) return [];
    const last = this.pending.framePtsUs.at(-1);
    // No frame followed the closed batch: it ends where its last frame ends.
    const end = last === undefined ? 0 : (this.lastFrameEnd ?? last);
    const done = [{ ...this.pending, endPtsUs: end }];
    this.pending = null;
    return done;
  }
}
