import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { ClockStatus, NodeEvent } from "../../contract/generated/payloads.js";
import { chronycReader } from "./chronyc.js";
import { chronyClient, type ReadChrony } from "./chrony-client.js";
import { DisabledClock } from "./disabled-clock.js";
import { ClockMonitor } from "./monitor.js";

/**
 * How this node reads chronyd: its command protocol over UDP (no process per reading), or chronyc
 * when chrony_host is the path of chronyd's Unix socket.
 */
export function chronyReader(config: Config): ReadChrony {
  const timeoutMs = 5000;
  return config.chrony_host.startsWith("/")
    ? chronycReader({ path: config.chronyc_path, host: config.chrony_host, port: null, timeoutMs })
    : chronyClient({ host: config.chrony_host || null, port: config.chrony_port || null, timeoutMs });
}

/** The node's clock monitor; with --disable-sync, a clock that says so. */
export function createClock(
  config: Config,
  deps: {
    log: Logger;
    publishClock: (status: ClockStatus) => void;
    publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
    now?: () => Date;
  },
): ClockMonitor | DisabledClock {
  if (config.disable_sync)
    return new DisabledClock({ node: config.sbc_id, publishClock: deps.publishClock, now: deps.now });
  return new ClockMonitor({
    node: config.sbc_id,
    intervalMs: config.sync_interval * 1000,
    maxRootDistanceS: config.max_root_distance_ms / 1000,
    read: chronyReader(config),
    log: deps.log,
    publishClock: deps.publishClock,
    publishEvent: deps.publishEvent,
    now: deps.now,
  });
}
