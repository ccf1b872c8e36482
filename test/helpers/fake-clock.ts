import type { Clock } from "../../platform/clock.js";
import type { TimerHandle } from "../../platform/timers.js";

/** Where a fake clock's wall-clock time starts (`now()`), epoch ms. */
export const FAKE_EPOCH_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

/**
 * A fake of the time port (platform/clock.ts): nothing fires until advance(), which runs every due
 * callback in time order (intervals again and again) and lets the promises they start settle.
 * `now()` is FAKE_EPOCH_MS (or the given start) plus the time advanced.
 */
export class FakeClock implements Clock {
  /** Milliseconds advanced so far. */
  elapsed = 0;

  constructor(private readonly startMs = FAKE_EPOCH_MS) {}

  now(): number {
    return this.startMs + this.elapsed;
  }
  private next = 1;
  private readonly timers = new Map<number, { at: number; every: number | null; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.elapsed + ms, every: null, fn });
    return id;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.elapsed + ms, every: ms, fn });
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
    const until = this.elapsed + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      const [id, t] = due;
      this.elapsed = t.at;
      if (t.every === null) this.timers.delete(id);
      else t.at += t.every;
      t.fn();
      await settle();
    }
    this.elapsed = until;
    await settle();
  }
}

/** Lets pending promise chains run (real I/O callbacks included), without waiting on the clock. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
