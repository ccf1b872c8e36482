import { freeBytes } from "../../platform/disk/free-bytes.js";
import { realTimers, type TimerHandle, type Timers } from "../../platform/timers.js";

export interface DiskWatchOptions {
  dir: string;
  intervalMs: number;
  /** Below this many free bytes, onLow is called once. */
  thresholdBytes: number;
  onLow: (free: number) => void;
  freeBytes?: (dir: string) => Promise<number>;
  timers?: Timers;
}

/** Free space while recording: one call to onLow when it falls below the threshold. */
export class DiskWatch {
  private timer: TimerHandle | null = null;
  private fired = false;
  private readonly timers: Timers;

  constructor(private readonly opts: DiskWatchOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  start(): void {
    if (this.timer) return;
    this.fired = false;
    this.timer = this.timers.setInterval(() => void this.check(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timer = null;
  }

  private async check(): Promise<void> {
    const free = await (this.opts.freeBytes ?? freeBytes)(this.opts.dir).catch(() => null);
    if (free === null || this.fired || !this.timer || free >= this.opts.thresholdBytes) return;
    this.fired = true;
    this.opts.onLow(free);
  }
}
