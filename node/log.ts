import pino, { type Logger, type DestinationStream } from "pino";
import { redactor } from "./secrets.js";

/**
 * The process's root logger: pino JSON, one event per line; modules take `log.child({ module })`.
 * Every line passes through the redactor before it is written: URL user info and the configured
 * secrets never reach a log, whichever field or error message carries them; host and port stay.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  secrets: readonly string[] = [],
): Logger {
  const redact = redactor(secrets);
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["password", "*.password"], censor: "***" },
      hooks: { streamWrite: redact },
    },
    destination,
  );
}
