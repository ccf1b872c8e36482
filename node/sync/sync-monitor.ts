import type { Logger } from "pino";
import type { BatchReady, ClockStatus, NodeEvent } from "../../contract/generated/payloads.js";
import { assessClock } from "./chrony-parse.js";
import type { ReadChrony } from "./chrony-client.js";
import { callSafely } from "../../platform/listeners.js";
import type { Clock } from "../../platform/clock.js";

export interface SyncMonitorOptions {
  node: string;
  intervalMs: number;
  maxRootDistanceS: number;
  read: ReadChrony;
  log: Logger;
  publishClock: (status: ClockStatus) => void;
  publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
  clock: Clock;
}

/** Pure: a clock status with nothing read from chrony, and why. */
export function unreadStatus(node: string, reason: string, checked_at: string): ClockStatus {
  return {
    node,
    synced: false,
    reason,
    source: null,
    stratum: null,
    offset_s: null,
    rms_offset_s: null,
    root_delay_s: null,
    root_dispersion_s: null,
    root_distance_s: null,
    skew_ppm: null,
    leap: null,
    checked_at,
  };
}

/**
 * Polls chrony every interval and publishes the retained clock status; a change of `synced` is
 * also an event. chrony missing, stopped or unreachable gives synced: false with the reason, never a
 * throw. start()/stop() are idempotent; a poll that finishes after stop() publishes nothing.
 */
export class SyncMonitor {
  private timer: unknown = null;
  private running = false;
  private last: ClockStatus | null = null;
  private readonly clock: Clock;

  constructor(private readonly o: SyncMonitorOptions) {
    this.clock = o.clock;
  }

  get status(): ClockStatus | null {
    return this.last;
  }

  /** What a batch records: the latest status, reduced to the fields that matter for alignment. */
  snapshot(): BatchReady["clock"] {
    const s = this.last;
    if (!s) return { synced: false, reason: "clock status not read yet" };
    return {
      synced: s.synced,
      ...(s.offset_s !== null ? { offset_s: s.offset_s } : {}),
      ...(s.root_distance_s !== null && s.root_distance_s !== undefined
        ? { root_distance_s: s.root_distance_s }
        : {}),
      ...(s.reason ? { reason: s.reason } : {}),
      checked_at: s.checked_at,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.poll();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** One reading, published; schedules the next. Exposed for tests. */
  async poll(): Promise<ClockStatus> {
    const status = await this.read();
    if (!this.running) return status;
    const changed = this.last !== null && this.last.synced !== status.synced;
    this.last = status;
    callSafely(this.o.log, "clock status", () => this.o.publishClock(status));
    if (changed) {
      callSafely(this.o.log, "clock event", () =>
        this.o.publishEvent(
          status.synced
            ? { type: "clock_synced", level: "info", message: `clock synced to ${status.source ?? "?"}` }
            : {
                type: "clock_unsynced",
                level: "warning",
                message: `clock not synced: ${status.reason}`,
                reason: status.reason,
              },
        ),
      );
      this.o.log.warn({ synced: status.synced, reason: status.reason }, "clock sync changed");
    }
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(
      () => void this.poll().catch((err: unknown) => this.o.log.error({ err }, "clock poll failed")),
      this.o.intervalMs,
    );
    return status;
  }

  private async read(): Promise<ClockStatus> {
    const checked_at = new Date(this.clock.now()).toISOString();
    try {
      const { tracking: t, sources } = await this.o.read();
      const a = assessClock(t, sources, this.o.maxRootDistanceS);
      return {
        node: this.o.node,
        synced: a.synced,
        ...(a.reason ? { reason: a.reason } : {}),
        source: t.source,
        stratum: t.stratum,
        offset_s: t.offsetS,
        rms_offset_s: t.rmsOffsetS,
        root_delay_s: t.rootDelayS,
        root_dispersion_s: t.rootDispersionS,
        root_distance_s: a.rootDistanceS,
        skew_ppm: t.skewPpm,
        leap: t.leap,
        checked_at,
      };
    } catch (err) {
      return unreadStatus(this.o.node, `chrony not readable: ${(err as Error).message}`, checked_at);
    }
  }
}
