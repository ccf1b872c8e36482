/**
 * The timers of the time port (clock.ts): units that wait or poll take a Clock, so their tests drive
 * time with a fake (test/helpers/fake-clock.ts) instead of sleeping. `unref` timers do not keep the
 * process alive (background polls); the others do.
 */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** Resolves after ms on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}
