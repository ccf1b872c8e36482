import type { Timers } from "./timers.js";

/**
 * The time port, after MQTT.js's injectable timers: wall-clock time (`now()`, epoch ms) and timers,
 * in one. Each process makes one (cli/, `systemClock()`) and hands it to every part that reads the
 * time, waits or polls; tests hand a fake (test/helpers/fake-clock.ts) and drive time without sleeping.
 */
export interface Clock extends Timers {
  /** Wall-clock time, epoch milliseconds. */
  now(): number;
}

/** The machine's clock and Node.js's timers. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    setInterval: (fn, ms, opts) => {
      const t = setInterval(fn, ms);
      if (opts?.unref) t.unref();
      return t;
    },
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  };
}
