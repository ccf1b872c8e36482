import type { Logger } from "pino";

/**
 * A long-lived part with an idempotent start() and stop(): started once (a second call does nothing),
 * stopped once, stop() safe without start().
 */
export interface Unit {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** A unit from two functions (either may do nothing: a one-shot step at start, a drain at stop). */
export function unit(
  name: string,
  start: () => Promise<void> | void,
  stop: () => Promise<void> | void = () => {},
): Unit {
  return { name, start, stop };
}

/** A part by name, possibly absent (null: configured off): its own start() and stop(), or nothing. */
export function part(
  name: string,
  p: { start(): Promise<unknown> | unknown; stop(): Promise<unknown> | unknown } | null,
): Unit {
  return unit(
    name,
    async () => void (await p?.start()),
    async () => void (await p?.stop()),
  );
}

/**
 * Units started in order and stopped in reverse, each only once. A stop that comes during the start
 * lets the unit being started finish, starts no further one, then stops those started. A start that
 * fails stops the units already started (itself included, in reverse) and rethrows; a stop that fails
 * is logged and the others still stop.
 */
export class Units {
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private stopRequested = false;
  private readonly started: Unit[] = [];

  constructor(
    private readonly units: readonly Unit[],
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopRequested = true;
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.stopStarted();
    })();
    return this.stopping;
  }

  private async startAll(): Promise<void> {
    for (const u of this.units) {
      if (this.stopRequested) return;
      this.started.push(u);
      try {
        await u.start();
      } catch (err) {
        this.log.error({ err, unit: u.name }, "unit did not start: stopping the others");
        // A stop already asked for does this once the start has settled.
        if (!this.stopRequested) {
          this.stopRequested = true;
          await (this.stopping = this.stopStarted());
        }
        throw err;
      }
    }
  }

  private async stopStarted(): Promise<void> {
    for (const u of this.started.splice(0).reverse()) {
      try {
        await u.stop();
      } catch (err) {
        this.log.error({ err, unit: u.name }, "unit did not stop cleanly");
      }
    }
  }
}
