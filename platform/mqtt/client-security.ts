import type { Config } from "../config/config.js";
import { ConfigFileError, readCertificatePair, readConfiguredFile } from "../config/config-files.js";

/** What a client adds to its connection for an authenticating or TLS broker. */
export interface ClientSecurity {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** A certificate or key named for the broker connection cannot be used (platform/config/config-files.ts). */
export { ConfigFileError as SecurityConfigError };

export type SecuritySettings = Pick<
  Config,
  "broker_username" | "broker_password" | "broker_ca" | "broker_cert" | "broker_key"
>;

/** Reads the certificate files named in the configuration once, at start, with a clear error. */
export function clientSecurity(config: SecuritySettings): ClientSecurity {
  const ca = config.broker_ca ? readConfiguredFile("broker_ca", config.broker_ca) : undefined;
  const { cert, key } =
    readCertificatePair(
      { option: "broker_cert", file: config.broker_cert },
      { option: "broker_key", file: config.broker_key },
    ) ?? {};
  return {
    ...(config.broker_username ? { username: config.broker_username } : {}),
    ...(config.broker_password ? { password: config.broker_password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}
