import pino, { type Logger, type DestinationStream } from "pino";

/** The process's root logger: pino JSON, one event per line; modules take `log.child({ module })`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["password", "*.password", "url", "*.url"], censor: "***" },
    },
    destination,
  );
}
