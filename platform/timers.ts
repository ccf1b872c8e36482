/**
 * The timer port, after MQTT.js's injectable timers: units that wait or poll take one, so their tests
 * drive time with a fake (test/helpers/fake-timers.ts) instead of sleeping. `unref` timers do not keep
 * the process alive (background polls); the others do.
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

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms, opts) => {
    const t = setInterval(fn, ms);
    if (opts?.unref) t.unref();
    return t;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};
