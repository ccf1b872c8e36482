import type { AssembledBatch } from "../ffmpeg/batch-assembler.js";
import { CLUSTER_MS } from "../ffmpeg/ffmpeg-args.js";

// Whether a closed batch is the session's last is known only once the next one holds a frame on disk:
// ffmpeg reports the next batch's first frame before Matroska writes it (frames wait in a cluster
// for up to CLUSTER_MS), and an ffmpeg that dies then leaves that batch empty. Announced at once, the
// closed batch could never be marked `last`. So it is held until the next batch's first cluster is in
// its file (a frame more than CLUSTER_MS after that batch's first was reported: matroskaenc wrote the
// cluster before ffmpeg reported that frame) or until a later batch closes; at ffmpeg's exit what is
// held goes with the rest, and the last batch with a frame on disk is marked.

/** Reported frames of the open batch past its first beyond which its first cluster is in the file. */
export const FLUSHED_SPAN_US = (CLUSTER_MS + 50) * 1000;

/** Pure bookkeeping of one ffmpeg run's closed batches not yet handed to the finalizer. */
export class BatchHoldback {
  private held: AssembledBatch[] = [];

  /** A closed batch: held. Returns those that may go now (see release). */
  closed(batch: AssembledBatch, openSpanUs: number): AssembledBatch[] {
    this.held.push(batch);
    return this.release(openSpanUs);
  }

  /**
   * The held batches whose successor is known to hold a frame on disk: all but the newest (a later
   * batch closed after them), and the newest once the open batch's frames span FLUSHED_SPAN_US.
   */
  release(openSpanUs: number): AssembledBatch[] {
    const keep = openSpanUs >= FLUSHED_SPAN_US ? 0 : Math.min(1, this.held.length);
    return this.held.splice(0, this.held.length - keep);
  }

  /** At the run's exit: everything still held, in order. */
  drain(): AssembledBatch[] {
    return this.held.splice(0);
  }
}
