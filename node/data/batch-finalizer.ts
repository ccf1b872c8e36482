import path from "node:path";
import type { Logger } from "pino";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { hashFile } from "./hash.js";
import { renderSidecar, sidecarName, writeSidecar } from "./frames-sidecar.js";
import { Manifest } from "./manifest.js";
import { isoMicros } from "./paths.js";
import type { AssembledBatch } from "../ffmpeg/batch-assembler.js";
import { repairBatch } from "./repair.js";

export interface FinalizerOptions {
  node: string;
  session: string;
  sessionDir: string;
  ffmpegPath: string;
  /** The environment of the repair's ffmpeg (platform/config/child-env.ts). */
  childEnv: Readonly<Record<string, string>>;
  /** Recovery at start: every batch it finalizes is marked `recovered`. */
  recovering?: boolean;
  /** Frames already in the manifest (sidecar frame numbers continue from there). */
  framesBefore?: number;
  log: Logger;
  /** Called in order, after the batch's manifest line is on disk. */
  announce: (batch: BatchReady) => Promise<void>;
  syncStatus: () => BatchReady["clock"];
  /** Where the frame times come from (ffmpeg-args.ts, timeSourceOf); unknown for old recoveries. */
  timeSource?: BatchReady["time_source"];
  /**
   * The latency correction (µs): every time published is the stamped time minus it, and the batch says
   * so (latency_ms, raw_start, raw_end; the sidecar's raw_epoch_s). 0: none. docs/time.md.
   */
  latencyUs?: number;
}

export interface Finalized {
  /** Null when nothing of the batch reached the disk. */
  batch: BatchReady | null;
  /** Wall-clock µs where the kept frames end (the start of any gap after them), corrected like the batch. */
  endUs: number;
  /** Frames ffmpeg reported that are not in the file (the tail a kill cut off). */
  framesLost: number;
}

/**
 * Turns an assembled batch into a manifest line and an announcement: a batch ffmpeg never closed is
 * first remuxed to be playable and cut to the frames it really holds. Then hash, sidecar (fsync'ed),
 * manifest line (fsync'ed), announcement. One per session, used strictly in order.
 */
export class BatchFinalizer {
  private readonly manifest: Manifest;
  private frames: number;
  private count = 0;
  /**
   * Frames a repaired batch holds: one repaired ahead (keptFrames) is not repaired twice. Keyed by the
   * batch, not its file: a restarted run reuses a dropped empty batch's number, so its file name.
   */
  private readonly repaired = new WeakMap<AssembledBatch, number>();

  constructor(private readonly opts: FinalizerOptions) {
    this.manifest = Manifest.inDir(opts.sessionDir);
    this.frames = opts.framesBefore ?? 0;
  }

  /**
   * How many frames a batch ffmpeg never closed really holds, repairing it now (finalize then uses
   * the result): whether the session's last batch has any frame is known before the one before it is
   * listed. A closed batch holds all its frames.
   */
  async keptFrames(b: AssembledBatch): Promise<number> {
    if (b.finalized) return b.framePtsUs.length;
    const file = path.join(this.opts.sessionDir, b.file);
    let kept = this.repaired.get(b);
    if (kept === undefined) {
      kept = Math.min(await repairBatch(this.opts.ffmpegPath, file, this.opts.childEnv), b.framePtsUs.length);
      this.repaired.set(b, kept);
    }
    return kept;
  }

  /**
   * Which of a session's final batches is its last: the last with a frame on disk (a final partial
   * batch that holds none is dropped by finalize, and the one before it is marked instead); -1: none.
   */
  async lastWithFrames(batches: readonly AssembledBatch[]): Promise<number> {
    let i = batches.length - 1;
    while (i >= 0 && (await this.keptFrames(batches[i]!)) === 0) i--;
    return i;
  }

  /** Batches added to the manifest by this finalizer. */
  get batches(): number {
    return this.count;
  }

  async finalize(b: AssembledBatch, anchorUs: number, last: boolean): Promise<Finalized> {
    const { opts } = this;
    let pts = b.framePtsUs;
    let endPts = b.endPtsUs;
    if (!b.finalized) {
      const kept = await this.keptFrames(b);
      opts.log.warn({ file: b.file, kept, reported: pts.length }, "partial batch repaired");
      // The batch ends where the first frame it lost would have started.
      if (kept < pts.length) endPts = pts[kept]!;
      pts = pts.slice(0, kept);
    }
    const latencyUs = opts.latencyUs ?? 0;
    const first = pts[0];
    if (first === undefined)
      return { batch: null, endUs: anchorUs + endPts - latencyUs, framesLost: b.framePtsUs.length };
    const startUs = anchorUs + first - latencyUs;
    const endUs = anchorUs + endPts - latencyUs;
    const batch = await this.list({
      seq: b.seq,
      file: b.file,
      sidecar: renderSidecar(this.frames, anchorUs, pts, latencyUs),
      frames: pts.length,
      startUs,
      endUs,
      tickUs: b.tickUs,
      last,
      recovered: !b.finalized || opts.recovering === true,
    });
    return { batch, endUs, framesLost: b.framePtsUs.length - pts.length };
  }

  /**
   * A batch whose times the program that wrote it measured (node/source/): each sample's time, or
   * only where the batch starts and ends (then no row in the sidecar, `samples` counted by the program).
   */
  finalizeTimes(t: {
    seq: number;
    file: string;
    samplesUs: readonly number[];
    startUs: number;
    endUs: number;
    samples: number;
    last: boolean;
  }): Promise<BatchReady> {
    const anchorUs = t.samplesUs[0] ?? t.startUs;
    return this.list({
      seq: t.seq,
      file: t.file,
      sidecar: renderSidecar(
        this.frames,
        anchorUs,
        t.samplesUs.map((us) => us - anchorUs),
      ),
      frames: t.samplesUs.length || t.samples,
      startUs: t.startUs,
      endUs: t.endUs,
      tickUs: 1,
      last: t.last,
      recovered: this.opts.recovering === true,
    });
  }

  /** Hash, sidecar (fsync'ed), manifest line (fsync'ed), announcement: a batch becomes listed. */
  private async list(b: {
    seq: number;
    file: string;
    sidecar: string;
    frames: number;
    startUs: number;
    endUs: number;
    tickUs: number;
    last: boolean;
    recovered: boolean;
  }): Promise<BatchReady> {
    const { opts } = this;
    const latencyUs = opts.latencyUs ?? 0;
    const { sha256, bytes } = await hashFile(path.join(opts.sessionDir, b.file));
    const framesFile = sidecarName(b.file);
    await writeSidecar(path.join(opts.sessionDir, framesFile), b.sidecar);
    this.frames += b.frames;
    const { startUs, endUs } = b;
    const batch: BatchReady = {
      node: opts.node,
      session: opts.session,
      seq: b.seq,
      file: `${opts.session}/${b.file}`,
      start: isoMicros(startUs),
      end: isoMicros(endUs),
      duration_s: Math.round(endUs - startUs) / 1e6,
      frames: b.frames,
      frames_file: `${opts.session}/${framesFile}`,
      bytes,
      sha256,
      ...(opts.timeSource ? { time_source: opts.timeSource } : {}),
      time_resolution_us: Math.round(b.tickUs * 1000) / 1000,
      ...(latencyUs
        ? {
            latency_ms: latencyUs / 1000,
            raw_start: isoMicros(startUs + latencyUs),
            raw_end: isoMicros(endUs + latencyUs),
          }
        : {}),
      ...(b.last ? { last: true } : {}),
      ...(b.recovered ? { recovered: true } : {}),
      clock: opts.syncStatus(),
    };
    await this.manifest.append(batch);
    this.count++;
    await opts.announce(batch);
    return batch;
  }

  close(): Promise<void> {
    return this.manifest.close();
  }
}
