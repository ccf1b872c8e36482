import type { TimerHandle } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";
import { DEFAULT_RESTART_POLICY, restartDelay, type RestartPolicy } from "./restart-policy.js";

/**
 * A session's restart loop: the failures so far, what the policy (restart-policy.ts) makes of them,
 * and the one pending restart, on the timer port.
 */
export class Restarts {
  private readonly failures: number[] = [];
  private timer: TimerHandle | null = null;

  constructor(
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly clock: Clock,
  ) {}

  get count(): number {
    return this.failures.length;
  }

  /** Counts a failure at `now` (epoch ms). */
  failed(now: number): void {
    this.failures.push(now);
  }

  /** How long to wait before the next run, or null: too many failures, give up. */
  delay(now: number): number | null {
    return restartDelay(this.failures, now, this.policy);
  }

  /** Runs `next` after `delayMs`, unless cancelled first. */
  schedule(delayMs: number, next: () => void): void {
    this.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      next();
    }, delayMs);
  }

  /** Cancels the pending restart; true if there was one (the session is between two runs). */
  cancel(): boolean {
    if (this.timer === null) return false;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    return true;
  }
}
