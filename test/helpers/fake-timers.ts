import type { TimerHandle, Timers } from "../../platform/timers.js";

/**
 * A fake clock for units that take the timer port: nothing fires until advance(), which runs every
 * due callback in time order (intervals again and again) and lets the promises they start settle.
 */
export class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; every: number | null; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, every: null, fn });
    return id;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, every: ms, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  clearInterval(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers still pending (a unit that stopped cleanly leaves none). */
  get pending(): number {
    return this.timers.size;
  }

  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === null) this.timers.delete(id);
      else t.at += t.every;
      t.fn();
      await settle();
    }
    this.now = until;
    await settle();
  }
}

/** Lets pending promise chains run (real I/O callbacks included), without waiting on the clock. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
