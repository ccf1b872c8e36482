import { readFileSync } from "node:fs";
import type { Config } from "../config/config.js";

/** What a client adds to its connection for an authenticating or TLS broker. */
export interface ClientSecurity {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class SecurityConfigError extends Error {}

export type SecuritySettings = Pick<
  Config,
  "broker_username" | "broker_password" | "broker_ca" | "broker_cert" | "broker_key"
>;

/** Reads the certificate files named in the configuration once, at start, with a clear error. */
export function clientSecurity(config: SecuritySettings): ClientSecurity {
  const read = (key: "broker_ca" | "broker_cert" | "broker_key"): Buffer | undefined => {
    const file = config[key];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new SecurityConfigError(
        `${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  if (Boolean(config.broker_cert) !== Boolean(config.broker_key))
    throw new SecurityConfigError("broker_cert and broker_key go together");
  const ca = read("broker_ca");
  const cert = read("broker_cert");
  const key = read("broker_key");
  return {
    ...(config.broker_username ? { username: config.broker_username } : {}),
    ...(config.broker_password ? { password: config.broker_password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}
