import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import { loadAuthFile } from "./auth-file.js";
import type { BrokerOptions } from "./embedded-broker.js";

export class BrokerConfigError extends Error {}

/** The embedded broker's options from the configuration; files are read (and checked) here, once. */
export function brokerOptions(config: Config, log: Logger): BrokerOptions {
  const tlsWanted = config.tls_port > 0;
  if (tlsWanted && (!config.tls_cert || !config.tls_key))
    throw new BrokerConfigError("tls_port needs tls_cert and tls_key");
  const read = (file: string, key: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new BrokerConfigError(
        `${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  return {
    port: config.broker_port,
    host: config.broker_host,
    log,
    baseTopic: config.base_topic,
    users: config.auth_file ? loadAuthFile(config.auth_file) : null,
    tls: tlsWanted
      ? {
          port: config.tls_port,
          cert: read(config.tls_cert, "tls_cert"),
          key: read(config.tls_key, "tls_key"),
        }
      : null,
    wsPort: config.ws_port > 0 ? config.ws_port : null,
  };
}
