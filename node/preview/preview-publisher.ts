import { mkdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { NodeState, PreviewMeta } from "../../contract/generated/payloads.js";
import { embedPreviewMeta, isJpeg, jpegSize } from "../../contract/preview.js";
import type { Unit } from "../../platform/units.js";
import type { Clock } from "../../platform/clock.js";
import { keyframeCodec, lowresFor, type PreviewKind } from "../ffmpeg/preview-args.js";
import type { SpawnFn } from "../process/child-runner.js";
import { PreviewDecoder } from "./preview-decoder.js";

export interface PreviewPublisherOptions {
  node: string;
  /** Where the recorder's ffmpeg leaves the kept frame (<data-dir>/.labx-preview). */
  dir: string;
  intervalMs: number;
  maxBytes: number;
  width: number;
  ffmpegPath: string;
  /** Spawns the preview decoder (the node's, with its children's environment). */
  spawn: SpawnFn;
  publish: (jpeg: Buffer) => Promise<void>;
  log: Logger;
  clock: Clock;
}

const FILES: readonly { name: string; kind: PreviewKind }[] = [
  { name: "frame.jpg", kind: "jpeg" },
  { name: "keyframe.h264", kind: "keyframe" },
];

/**
 * labx/<id>/preview while a session records: every interval, takes the frame the recorder's ffmpeg
 * kept (preview-args.ts) if it is newer than the last one sent, and publishes it as a JPEG with its
 * metadata in a comment (contract/preview.ts). A JPEG frame within the size cap goes as it is; a
 * larger one, or a keyframe of another codec, is made small by a decoder kept running while the
 * session records (preview-decoder.ts). Nothing here can stop or slow the recording: every failure is
 * a log line.
 */
export class PreviewPublisher implements Unit {
  readonly name = "preview";
  private timer: unknown = null;
  private firstLook: unknown = null;
  private session: string | null = null;
  /** Frames older than this (ms since the epoch) belong to an earlier session. */
  private since = 0;
  private lastMtimeMs = 0;
  private busy: Promise<void> = Promise.resolve();
  private stopped = false;
  private warnedTooBig = false;
  private decoder: PreviewDecoder | null = null;

  constructor(private readonly o: PreviewPublisherOptions) {}

  private get clock(): Clock {
    return this.o.clock;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await mkdir(this.o.dir, { recursive: true });
    // A frame left by an earlier run is not this camera now.
    await Promise.all(FILES.map((f) => rm(path.join(this.o.dir, f.name), { force: true })));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.idle();
    await this.busy;
    await this.dropDecoder();
  }

  private dropDecoder(): Promise<void> {
    const d = this.decoder;
    this.decoder = null;
    return d?.stop() ?? Promise.resolve();
  }

  /** Follows the node's state: previews run while it records. */
  track(state: NodeState): void {
    if (state.state === "recording" && !this.stopped) {
      if (this.timer !== null && this.session === state.session) return;
      this.idle();
      this.session = state.session;
      this.since = this.clock.now() - 1000;
      this.timer = this.clock.setInterval(() => this.tick(), this.o.intervalMs, { unref: true });
      // The first frame is kept as soon as ffmpeg has one: look once shortly after the start.
      this.firstLook = this.clock.setTimeout(() => this.tick(), Math.min(1000, this.o.intervalMs));
    } else if (state.state !== "recording") this.idle();
  }

  private idle(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    if (this.firstLook !== null) this.clock.clearTimeout(this.firstLook);
    this.timer = this.firstLook = null;
    // The decoder lives as long as the session: what is queued finishes first.
    this.busy = this.busy.then(() => this.dropDecoder());
  }

  private tick(): void {
    if (this.timer === null) return;
    this.busy = this.busy.then(() =>
      this.takeOne().catch((err: unknown) => this.o.log.warn({ err }, "preview not published")),
    );
  }

  private async newest(): Promise<{ file: string; kind: PreviewKind; mtimeMs: number } | null> {
    let best: { file: string; kind: PreviewKind; mtimeMs: number } | null = null;
    for (const f of FILES) {
      const file = path.join(this.o.dir, f.name);
      const s = await stat(file).catch(() => null);
      if (s && s.mtimeMs >= this.since && (!best || s.mtimeMs > best.mtimeMs))
        best = { file, kind: f.kind, mtimeMs: s.mtimeMs };
    }
    return best && best.mtimeMs > this.lastMtimeMs ? best : null;
  }

  private async takeOne(): Promise<void> {
    const found = await this.newest();
    if (!found) return;
    this.lastMtimeMs = found.mtimeMs;
    const raw = await readFile(found.file);
    const made = await this.small(raw, found);
    if (!made) return;
    const size = jpegSize(made.jpeg);
    if (!size) throw new Error("the preview is not a JPEG with a frame header");
    const meta: PreviewMeta = {
      node: this.o.node,
      session: this.session,
      taken_at: new Date(found.mtimeMs).toISOString(),
      ...size,
      source: made.source,
    };
    const jpeg = embedPreviewMeta(made.jpeg, meta);
    if (jpeg.length > this.o.maxBytes) {
      if (!this.warnedTooBig)
        this.o.log.warn(
          { bytes: jpeg.length, max: this.o.maxBytes },
          "preview over --preview-max-kb: not sent",
        );
      this.warnedTooBig = true;
      return;
    }
    await this.o.publish(jpeg);
  }

  /** The frame as it is when it can be, else a scaled-down or decoded one. */
  private async small(
    raw: Buffer,
    found: { file: string; kind: PreviewKind },
  ): Promise<{ jpeg: Buffer; source: PreviewMeta["source"] } | null> {
    if (found.kind === "jpeg") {
      if (!isJpeg(raw)) return null;
      if (raw.length + 512 <= this.o.maxBytes) return { jpeg: raw, source: "frame" };
    }
    const width = found.kind === "jpeg" ? (jpegSize(raw)?.width ?? 0) : 0;
    const lowres = lowresFor(width, this.o.width);
    const input = found.kind === "jpeg" ? "jpeg" : keyframeCodec(raw);
    if (!input) throw new Error("the kept keyframe is neither H.264 nor HEVC: no preview of this codec");
    if (!this.decoder?.fits(input, lowres)) {
      await this.dropDecoder();
      this.decoder = new PreviewDecoder({
        ffmpegPath: this.o.ffmpegPath,
        spawn: this.o.spawn,
        clock: this.o.clock,
        input,
        maxWidth: this.o.width,
        lowres,
        log: this.o.log,
      });
    }
    try {
      const jpeg = await this.decoder.decode(raw);
      return { jpeg, source: found.kind === "jpeg" ? "scaled" : "keyframe" };
    } catch (err) {
      await this.dropDecoder(); // a fresh one next time
      throw err;
    }
  }
}
