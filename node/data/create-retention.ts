import type { Logger } from "pino";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import type { Config } from "../../platform/config/config.js";
import { Retention } from "./retention.js";
import type { Clock } from "../../platform/clock.js";

/**
 * The node's retention (--retention-days, --max-usage): it keeps every session still owed to the broker
 * or the store (`held`), and says so with a `disk_low` event (reason `backlog`) when that keeps the
 * data directory over its limit.
 */
export function createRetention(
  config: Config,
  o: {
    held: () => ReadonlySet<string>;
    event: (e: Omit<NodeEvent, "node" | "at">) => void;
    log: Logger;
    clock: Clock;
  },
): Retention {
  return new Retention({
    dataDir: config.data_dir,
    policy: { retentionDays: config.retention_days, maxUsageBytes: config.max_usage_mb * 1024 * 1024 },
    undelivered: o.held,
    clock: o.clock,
    onHeld: (held) =>
      o.event({
        type: "disk_low",
        level: "warning",
        session: null,
        reason: "backlog",
        message: `over --max-usage: ${held.sessions.length} finished sessions (${Math.round(held.bytes / 1048576)} MiB) kept until delivered and uploaded`,
      }),
    log: o.log,
  });
}
