import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { Clock } from "../../platform/clock.js";
import type { ClockStatus, NodeEvent } from "../../contract/generated/payloads.js";
import { chronycReader } from "./chronyc.js";
import { chronyClient, type ReadChrony } from "./chrony-client.js";
import { SyncDisabled } from "./sync-disabled.js";
import { SyncMonitor } from "./sync-monitor.js";

/**
 * How this node reads chronyd: its command protocol over UDP (no process per reading), or chronyc
 * when chrony_host is the path of chronyd's Unix socket.
 */
export function chronyReader(config: Config, clock: Clock): ReadChrony {
  const timeoutMs = 5000;
  return config.chrony_host.startsWith("/")
    ? chronycReader({ path: config.chronyc_path, host: config.chrony_host, port: null, timeoutMs })
    : chronyClient({ host: config.chrony_host || null, port: config.chrony_port || null, timeoutMs, clock });
}

/** The node's clock monitor; with --disable-sync, a clock that says so. */
export function createSync(
  config: Config,
  deps: {
    log: Logger;
    publishClock: (status: ClockStatus) => void;
    publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
    clock: Clock;
  },
): SyncMonitor | SyncDisabled {
  if (config.disable_sync)
    return new SyncDisabled({ node: config.sbc_id, publishClock: deps.publishClock, clock: deps.clock });
  return new SyncMonitor({
    node: config.sbc_id,
    intervalMs: config.sync_interval * 1000,
    maxRootDistanceS: config.max_root_distance_ms / 1000,
    read: chronyReader(config, deps.clock),
    log: deps.log,
    publishClock: deps.publishClock,
    publishEvent: deps.publishEvent,
    clock: deps.clock,
  });
}
