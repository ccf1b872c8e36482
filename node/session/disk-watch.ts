import { freeBytes } from "../../platform/disk/free-bytes.js";

export interface DiskWatchOptions {
  dir: string;
  intervalMs: number;
  /** Below this many free bytes, onLow is called once. */
  thresholdBytes: number;
  onLow: (free: number) => void;
  freeBytes?: (dir: string) => Promise<number>;
  setInterval?: typeof setInterval;
  clearInterval?: typeof clearInterval;
}

/** Free space while recording: one call to onLow when it falls below the threshold. */
export class DiskWatch {
  private timer: NodeJS.Timeout | null = null;
  private fired = false;

  constructor(private readonly opts: DiskWatchOptions) {}

  start(): void {
    if (this.timer) return;
    this.fired = false;
    this.timer = (this.opts.setInterval ?? setInterval)(() => void this.check(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) (this.opts.clearInterval ?? clearInterval)(this.timer);
    this.timer = null;
  }

  private async check(): Promise<void> {
    const free = await (this.opts.freeBytes ?? freeBytes)(this.opts.dir).catch(() => null);
    if (free === null || this.fired || !this.timer || free >= this.opts.thresholdBytes) return;
    this.fired = true;
    this.opts.onLow(free);
  }
}
