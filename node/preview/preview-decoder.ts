import type { ChildProcess } from "node:child_process";
import type { SpawnFn } from "../process/child-runner.js";
import type { Logger } from "pino";
import type { Clock } from "../../platform/clock.js";
import { previewDecoderArgs, type DecoderInput } from "../ffmpeg/preview-args.js";

const EOI = Buffer.from([0xff, 0xd9]);
const MAX_COPIES = 8;

/**
 * One ffmpeg kept running to make previews that need decoding: starting an ffmpeg costs ~60-90 ms of
 * CPU (its shared libraries), decoding one frame a few ms. ffmpeg's raw demuxers hand a frame over
 * only when the next one begins, and its pipeline holds one more: a frame written alone comes out a
 * few frames later. So each preview writes copies of its frame until the first copy comes out, and
 * counts outputs (one JPEG per frame in, in order): the copies still inside are skipped next time.
 * A JPEG from ffmpeg's encoder ends at its only EOI marker (0xFFD9 cannot occur in its coded data).
 */
export class PreviewDecoder {
  private child: ChildProcess | null = null;
  private written = 0;
  private received = 0;
  private outputs = new Map<number, Buffer>();
  private pending = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private exited = false;

  constructor(
    private readonly o: {
      ffmpegPath: string;
      input: DecoderInput;
      maxWidth: number;
      lowres: number;
      log: Logger;
      /** The node's spawn (its children's environment applied). */
      spawn: SpawnFn;
      /** The answer's deadline, and the wait between copies of a frame. */
      clock: Clock;
    },
  ) {}

  /** Same codec and scale: this decoder can be reused. */
  fits(input: DecoderInput, lowres: number): boolean {
    return !this.exited && this.o.input === input && this.o.lowres === lowres;
  }

  private start(): ChildProcess {
    const child = this.o.spawn(
      this.o.ffmpegPath,
      previewDecoderArgs(this.o.input, this.o.maxWidth, this.o.lowres),
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d: Buffer) => this.onData(d));
    child.stderr!.on("data", (d: Buffer) =>
      this.o.log.debug({ ffmpeg: d.toString().trim() }, "preview decoder"),
    );
    child.stdin!.on("error", () => {}); // a dead decoder is noticed on exit
    child.once("exit", () => {
      this.exited = true;
      this.wake?.();
    });
    return child;
  }

  private onData(d: Buffer): void {
    this.pending = Buffer.concat([this.pending, d]);
    let i: number;
    while ((i = this.pending.indexOf(EOI)) >= 0) {
      this.outputs.set(this.received++, this.pending.subarray(0, i + 2));
      this.pending = this.pending.subarray(i + 2);
    }
    this.wake?.();
  }

  /** One small JPEG of this frame, or an error after timeoutMs. */
  async decode(frame: Buffer, timeoutMs = 5000): Promise<Buffer> {
    this.child ??= this.start();
    const mine = this.written;
    // Outputs of earlier copies are not wanted any more.
    for (const k of [...this.outputs.keys()]) if (k < mine) this.outputs.delete(k);
    const { clock } = this.o;
    const deadline = clock.now() + timeoutMs;
    let copies = 0;
    while (!this.outputs.has(mine)) {
      if (this.exited) throw new Error("the preview decoder exited");
      if (clock.now() > deadline) throw new Error("the preview decoder did not answer in time");
      if (copies < MAX_COPIES) {
        this.child.stdin!.write(frame);
        this.written++;
        copies++;
      }
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(resolve, 40);
        this.wake = () => {
          clock.clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    const out = this.outputs.get(mine)!;
    this.outputs.delete(mine);
    return out;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || this.exited) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  }
}
