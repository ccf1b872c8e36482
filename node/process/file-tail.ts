import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { TimerHandle } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";

/**
 * Reads complete lines appended to a file, on a timer rather than per write: ffmpeg's per-frame
 * output costs the node one wake-up per poll instead of one per frame (30+/s through a pipe).
 * drain() reads whatever is left, for the end of a recording.
 */
export class FileTail {
  private fd: number | null = null;
  private position = 0;
  private partial = "";
  private timer: TimerHandle | null = null;
  /** Once stopped, for good: a late start() (ffmpeg exited right after its first frame) opens nothing. */
  private stopped = false;
  private readonly decoder = new StringDecoder("utf8");
  private readonly buffer = Buffer.alloc(64 * 1024);

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly clock: Clock,
  ) {}

  /** (Re)starts polling every intervalMs; idempotent; does nothing after stop(). */
  start(intervalMs: number): void {
    if (this.stopped) return;
    this.fd ??= openSync(this.file, "r");
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = this.clock.setInterval(() => this.drain(), intervalMs);
  }

  drain(): void {
    if (this.fd === null) return;
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.position);
      if (n === 0) break;
      this.position += n;
      const text = this.partial + this.decoder.write(this.buffer.subarray(0, n));
      const lines = text.split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) this.onLine(line);
    }
  }

  /** Reads the rest, including a last line without its newline, and closes. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = null;
    this.drain();
    if (this.partial) this.onLine(this.partial);
    this.partial = "";
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
