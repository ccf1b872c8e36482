import { hostname } from "node:os";
import pino, { type Logger, type DestinationStream } from "pino";
import { redactor } from "./secrets.js";

export interface LoggerOptions {
  destination?: DestinationStream;
  /** Configured secrets, stripped from every line (see secrets.ts). */
  secrets?: readonly string[];
  /** Fields on every line, e.g. the node id. */
  bindings?: Record<string, string>;
}

/**
 * The process's root logger: pino JSON, one event per line, with pid, hostname and the bindings on
 * every line; modules take `log.child({ module })` and add fields, never the same key twice. Every
 * line passes through the redactor before it is written: URL user info and the configured secrets
 * never reach a log, whichever field or error message carries them; host and port stay.
 */
export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const redact = redactor(opts.secrets ?? []);
  return pino(
    {
      level,
      base: { pid: process.pid, hostname: hostname(), ...opts.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["password", "*.password"], censor: "***" },
      hooks: { streamWrite: redact },
    },
    opts.destination,
  );
}
