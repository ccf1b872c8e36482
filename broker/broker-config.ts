import type { Logger } from "pino";
import type { LabCredentials } from "../contract/generated/payloads.js";
import type { Validators } from "../contract/schemas.js";
import type { Config } from "../platform/config/config.js";
import { loadAuthFile } from "./auth-file.js";
import { DEFAULT_BROKER_LIMITS } from "./connection-limits.js";
import type { BrokerOptions } from "./embedded-broker.js";
import { ensureLabCredentials } from "./lab-credentials.js";
import type { Clock } from "../platform/clock.js";
import { readConfiguredFile } from "../platform/config/config-files.js";

export class BrokerConfigError extends Error {}

/** The lab's generated logins, when the broker runs on them (no --auth-file). */
export interface LabLogins {
  created: boolean;
  credentials: LabCredentials;
  authFile: string;
}

/**
 * The embedded broker's options from the configuration; files are read (and checked) here, once. With
 * no --auth-file, the lab's logins are made in the data directory at the first start (lab-credentials.ts)
 * and anonymous clients are taken from this machine only; --allow-anonymous takes them from anywhere.
 */
export async function brokerOptions(
  config: Config,
  o: { log: Logger; validators: Validators; monotonicMs: () => number; clock: Clock },
): Promise<{ options: BrokerOptions; lab: LabLogins | null }> {
  const tlsWanted = config.tls_port > 0;
  if (tlsWanted && (!config.tls_cert || !config.tls_key))
    throw new BrokerConfigError("tls_port needs tls_cert and tls_key");
  const lab = config.auth_file
    ? null
    : await ensureLabCredentials(config.data_dir, o.validators, o.clock).catch((err: Error) => {
        throw new BrokerConfigError(`the lab's logins: ${err.message}`);
      });
  const users = loadAuthFile(config.auth_file || lab!.authFile);
  const options: BrokerOptions = {
    port: config.broker_port,
    host: config.broker_host,
    log: o.log,
    baseTopic: config.base_topic,
    users,
    anonymous: config.allow_anonymous ? "anywhere" : config.auth_file ? "never" : "loopback",
    tls: tlsWanted
      ? {
          port: config.tls_port,
          cert: readConfiguredFile("tls_cert", config.tls_cert),
          key: readConfiguredFile("tls_key", config.tls_key),
        }
      : null,
    wsPort: config.ws_port > 0 ? config.ws_port : null,
    limits: {
      ...DEFAULT_BROKER_LIMITS,
      maxConnections: config.broker_max_connections,
      maxPacketBytes: config.broker_max_packet_kb * 1024,
      maxKeepaliveS: config.broker_max_keepalive,
    },
    monotonicMs: o.monotonicMs,
  };
  return { options, lab };
}
