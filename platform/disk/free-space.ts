import { freeBytes as statfsFree } from "./free-bytes.js";
import type { TimerHandle } from "../timers.js";
import type { Clock } from "../clock.js";

export interface FreeSpaceOptions {
  dir: string;
  intervalMs: number;
  /** Every reading, in bytes: at start and then every interval, never after stop. */
  onReading: (freeBytes: number) => void;
  freeBytes?: (dir: string) => Promise<number>;
  clock: Clock;
  /** Let the process exit while it polls (the node's idle poller; a session's guard keeps it alive). */
  unref?: boolean;
}

/**
 * The one free-space poller. The node keeps one for its retained state (Home Assistant's free-disk
 * sensor, `labx watch`), idle or recording; each session runs one as its low-space guard (belowOnce).
 */
export class FreeSpace {
  private timer: TimerHandle | null = null;
  private last: number | undefined;
  private readonly clock: Clock;

  constructor(private readonly o: FreeSpaceOptions) {
    this.clock = o.clock;
  }

  /** The last reading in bytes, once there is one. */
  get bytes(): number | undefined {
    return this.last;
  }

  /** Takes the first reading (resolves after it) and polls every interval. Idempotent. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => void this.read(), this.o.intervalMs, {
      unref: this.o.unref ?? false,
    });
    await this.read();
  }

  stop(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  private async read(): Promise<void> {
    const free = await (this.o.freeBytes ?? statfsFree)(this.o.dir).catch(() => null);
    if (free === null || !this.timer) return;
    this.last = free;
    this.o.onReading(free);
  }
}

/** A reading handler that calls onLow once, at the first reading below `thresholdBytes`. */
export function belowOnce(
  thresholdBytes: number,
  onLow: (freeBytes: number) => void,
): (free: number) => void {
  let fired = false;
  return (free) => {
    if (fired || free >= thresholdBytes) return;
    fired = true;
    onLow(free);
  };
}

/** Whole MiB, as the node's state reports free space. */
export function wholeMb(bytes: number): number {
  return Math.floor(bytes / 1048576);
}
