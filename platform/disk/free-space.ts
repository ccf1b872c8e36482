import { freeBytes as statfsFree } from "./free-bytes.js";
import { realTimers, type TimerHandle, type Timers } from "../timers.js";

export interface FreeSpaceOptions {
  dir: string;
  intervalMs: number;
  /** Called with the free MiB when it differs from the last reading (and after the first). */
  onChange: (freeMb: number) => void;
  freeBytes?: (dir: string) => Promise<number>;
  timers?: Timers;
}

/**
 * The data directory's free space for the retained state (Home Assistant's free-disk sensor, `labx
 * watch`), idle or recording. Separate from DiskWatch, which only guards a running session.
 */
export class FreeSpace {
  private timer: TimerHandle | null = null;
  private last: number | undefined;
  private readonly timers: Timers;

  constructor(private readonly o: FreeSpaceOptions) {
    this.timers = o.timers ?? realTimers;
  }

  get mb(): number | undefined {
    return this.last;
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = this.timers.setInterval(() => void this.read(), this.o.intervalMs, { unref: true });
    await this.read();
  }

  stop(): void {
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timer = null;
  }

  async read(): Promise<void> {
    const free = await (this.o.freeBytes ?? statfsFree)(this.o.dir).catch(() => null);
    if (free === null) return;
    const mb = Math.floor(free / 1048576);
    if (mb === this.last) return;
    this.last = mb;
    if (this.timer) this.o.onChange(mb);
  }
}
