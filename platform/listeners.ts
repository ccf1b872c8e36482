import type { Logger } from "pino";

/**
 * Calls a listener so that whatever it does wrong stays with it: a throw, or a rejected promise it
 * returns, is logged with the listener's name and never reaches the caller (where, inside a timer
 * or a promise chain, it would end the process as an uncaught exception or unhandled rejection).
 */
export function callSafely(log: Logger, listener: string, fn: () => unknown): void {
  try {
    const result = fn();
    if (result instanceof Promise)
      result.catch((err: unknown) => log.error({ err, listener }, "listener failed"));
  } catch (err) {
    log.error({ err, listener }, "listener failed");
  }
}

/** Listeners of one event, after zigbee2mqtt's event bus: each called safely, in order. */
export class Listeners<A extends unknown[]> {
  private readonly fns: ((...args: A) => unknown)[] = [];

  constructor(
    private readonly log: Logger,
    private readonly event: string,
  ) {}

  /** Returns the call that removes it again. */
  add(fn: (...args: A) => unknown): () => void {
    this.fns.push(fn);
    return () => {
      const i = this.fns.indexOf(fn);
      if (i >= 0) this.fns.splice(i, 1);
    };
  }

  emit(...args: A): void {
    for (const fn of [...this.fns]) callSafely(this.log, this.event, () => fn(...args));
  }
}
