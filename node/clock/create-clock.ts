import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { ClockStatus, NodeEvent } from "../../contract/generated/payloads.js";
import { chronycRunner } from "./chronyc.js";
import { ClockMonitor } from "./monitor.js";

/** The node's clock monitor (chrony through chronyc), or null with --disable-sync. */
export function createClock(
  config: Config,
  deps: {
    log: Logger;
    publishClock: (status: ClockStatus) => void;
    publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
    now?: () => Date;
  },
): ClockMonitor | null {
  if (config.disable_sync) return null;
  return new ClockMonitor({
    node: config.sbc_id,
    intervalMs: config.sync_interval * 1000,
    maxRootDistanceS: config.max_root_distance_ms / 1000,
    chronyc: chronycRunner({
      path: config.chronyc_path,
      host: config.chrony_host || null,
      port: config.chrony_port || null,
      timeoutMs: 5000,
    }),
    log: deps.log,
    publishClock: deps.publishClock,
    publishEvent: deps.publishEvent,
    now: deps.now,
  });
}
