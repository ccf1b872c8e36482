// The embedded broker as `labx node --embedded-broker` and `labx broker` start it, with the lab's
// logins made at its first start (broker/lab-credentials.ts) and said in plain words; and
// `labx credentials`, which says them again or makes new ones.
import type { Logger } from "pino";
import { createValidators } from "../contract/schemas.js";
import { brokerOptions } from "../broker/broker-config.js";
import type { EmbeddedBroker } from "../broker/embedded-broker.js";
import { joinInstructions } from "../broker/join-instructions.js";
import { readLabCredentials, rotateLabCredentials } from "../broker/lab-credentials.js";
import { ConfigError, loadConfig, type Config } from "../platform/config/config.js";
import { lanAddresses } from "../platform/net/addresses.js";
import { systemClock } from "../platform/clock.js";

export interface Terminal {
  write(text: string): void;
  isTTY: boolean;
}

/** The process's stderr, for what people read (passwords only on a terminal). */
export const stderrTerminal = (): Terminal => ({
  write: (t) => void process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
});

/**
 * Starts the embedded broker (aedes is loaded only here). At the first start of a lab (no --auth-file)
 * the join command and the person's login are printed; passwords only on a terminal, never into a log.
 */
export async function startLabBroker(
  config: Config,
  log: Logger,
  term: Terminal,
): Promise<{ broker: EmbeddedBroker; port: number }> {
  const { EmbeddedBroker } = await import("../broker/embedded-broker.js");
  const { options, lab } = await brokerOptions(config, {
    log: log.child({ module: "broker" }),
    validators: createValidators(),
    monotonicMs: () => performance.now(),
    clock: systemClock(),
  });
  const broker = new EmbeddedBroker(options);
  const port = await broker.start();
  if (config.allow_anonymous)
    log.warn(
      "--allow-anonymous: the broker takes anonymous clients from every host; anyone on this network can command every node",
    );
  if (lab?.created)
    term.write(
      joinInstructions({
        credentials: lab.credentials,
        addresses: lanAddresses(),
        brokerPort: port,
        uiPort: config.ui_port,
        dataDir: config.data_dir,
        allowAnonymous: config.allow_anonymous,
        showPasswords: term.isTTY,
      }),
    );
  else if (lab)
    term.write(
      `labx: the broker takes ${config.allow_anonymous ? "anonymous clients from EVERY host" : "anonymous clients from this machine only"}; the lab's logins: labx credentials --data-dir ${config.data_dir}\n`,
    );
  return { broker, port };
}

export const CREDENTIALS_USAGE = `usage: labx credentials [--data-dir DIR] [--broker-port N] [--ui-port N] [--show join|controller] [--rotate]
  the lab's logins (made by the first start of a broker with no --auth-file): how another Pi joins and how
  a person logs in; --show prints one password alone (for scripts); --rotate makes new ones (restart the broker)`;

/** `labx credentials`: exit 0, 1 when no lab logins exist yet, 2 on a usage error. */
export async function runCredentials(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  out: Terminal,
  err: Terminal,
): Promise<number> {
  const rest = [...argv];
  const take = (flag: string, withValue: boolean): string | null => {
    const i = rest.indexOf(flag);
    if (i < 0) return null;
    const value = withValue ? rest[i + 1] : "";
    if (withValue && (value === undefined || value.startsWith("--")))
      throw new ConfigError(`${flag} needs a value\n${CREDENTIALS_USAGE}`);
    rest.splice(i, withValue ? 2 : 1);
    return value ?? "";
  };
  const show = take("--show", true);
  const rotate = take("--rotate", false) !== null;
  if (show !== null && show !== "join" && show !== "controller")
    throw new ConfigError(`--show takes join or controller\n${CREDENTIALS_USAGE}`);
  const config = loadConfig(rest, env);
  const credentials = rotate
    ? await rotateLabCredentials(config.data_dir, systemClock())
    : await readLabCredentials(config.data_dir, createValidators());
  if (!credentials) {
    err.write(
      `labx credentials: no lab logins in ${config.data_dir}/.labx/ yet: they are made when a node with --embedded-broker (or labx broker) first starts there without --auth-file\n`,
    );
    return 1;
  }
  if (show !== null) {
    out.write(`${credentials[show].password}\n`);
    return 0;
  }
  if (rotate)
    err.write(
      "labx credentials: new logins made; restart the broker, then every joined node with the new join password\n",
    );
  out.write(
    joinInstructions({
      credentials,
      addresses: lanAddresses(),
      brokerPort: config.broker_port,
      uiPort: config.ui_port,
      dataDir: config.data_dir,
      allowAnonymous: config.allow_anonymous,
      showPasswords: true,
    }),
  );
  return 0;
}
