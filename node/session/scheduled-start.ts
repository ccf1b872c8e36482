import type { Clock } from "../../platform/clock.js";
import type { TimerHandle } from "../../platform/timers.js";

/**
 * A pending synchronized start: `fire` runs `leadMs` before `at` on the timer port (ffmpeg starts a
 * little early with its timeline anchored at `at`, ffmpeg-args.ts). cancel() stops it from firing and
 * marks it, so a run it already started is not reported as a failure when it is stopped.
 */
export class ScheduledStart {
  private timer: TimerHandle | null = null;
  private cancelledFlag = false;

  constructor(
    readonly at: Date,
    private readonly clock: Clock,
  ) {}

  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  /** Arms the timer once. */
  arm(leadMs: number, fire: () => void): void {
    if (this.timer !== null || this.cancelledFlag) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        fire();
      },
      Math.max(0, this.at.getTime() - this.clock.now() - leadMs),
    );
  }

  cancel(): void {
    this.cancelledFlag = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
