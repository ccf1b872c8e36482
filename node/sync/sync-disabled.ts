import type { BatchReady, ClockStatus } from "../../contract/generated/payloads.js";
import { unreadStatus } from "./sync-monitor.js";
import type { Clock } from "../../platform/clock.js";

export const SYNC_DISABLED = "sync disabled";

/**
 * The clock of a node run with --disable-sync: chrony is never read, and the node says so where a
 * synced one says its status, the retained clock topic (at start and on every reconnect) as the
 * manifest lines do: synced false, reason "sync disabled".
 */
export class SyncDisabled {
  private last: ClockStatus | null = null;

  constructor(
    private readonly o: { node: string; publishClock: (status: ClockStatus) => void; clock: Clock },
  ) {}

  get status(): ClockStatus | null {
    return this.last;
  }

  snapshot(): BatchReady["clock"] {
    return { synced: false, reason: SYNC_DISABLED };
  }

  start(): void {
    if (this.last) return;
    this.last = unreadStatus(this.o.node, SYNC_DISABLED, new Date(this.o.clock.now()).toISOString());
    this.o.publishClock(this.last);
  }

  stop(): void {}
}
