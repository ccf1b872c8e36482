import { createLogUpdate } from "log-update";
import { pino, type Logger } from "pino";
import type { Command } from "../contract/generated/payloads.js";
import { clientSecurity, SecurityConfigError } from "../platform/mqtt/client-security.js";
import type { Validators } from "../contract/schemas.js";
import { CTL_USAGE, parseCtlArgs, UsageError, type CtlCommand, type CtlOptions } from "./ctl-args.js";
import { BrokerUnreachableError, connectController } from "./ctl-client.js";
import { renderResult } from "./render.js";
import { sendCommand } from "../platform/control/send-command.js";
import { watch } from "./watch.js";
import { redactUrl } from "../platform/secrets.js";
import type { Clock } from "../platform/clock.js";

export interface CtlIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  validators: Validators;
  /** Resolves on Ctrl+C / SIGTERM: ends `watch`. */
  until: Promise<unknown>;
  /** The process's time port (platform/clock.ts). */
  clock: Clock;
  /** The connection's log; silent by default (the controller speaks through stdout and stderr). */
  log?: Logger;
}

/** The command a controller sends, from its options; pure. */
export function commandOf(o: CtlOptions): Command {
  if (o.command !== "start") return { cmd: o.command } as Command;
  return {
    cmd: "start",
    ...(o.session !== undefined ? { session: o.session } : {}),
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.batchDuration !== undefined ? { batch_duration: o.batchDuration } : {}),
    ...(o.at !== undefined ? { at: o.at } : {}),
    ...(o.requireSync !== undefined ? { require_sync: o.requireSync } : {}),
  } as Command;
}

/** `labx start|stop|status|watch`: returns the exit status (see CTL_USAGE). */
export async function runCtl(command: CtlCommand, argv: string[], io: CtlIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(CTL_USAGE + "\n");
    return 0;
  }
  let o: CtlOptions;
  let security;
  try {
    o = parseCtlArgs(command, argv, io.env);
    security = clientSecurity(o.security);
  } catch (err) {
    if (err instanceof UsageError || err instanceof SecurityConfigError) {
      io.stderr.write(`labx ${command}: ${err.message}\n(labx ${command} --help for usage)\n`);
      return 2;
    }
    throw err;
  }
  const cmd = o.command === "watch" ? null : commandOf(o);
  if (cmd && !io.validators.command(cmd)) {
    const e = io.validators.command.errors?.[0];
    io.stderr.write(`labx ${command}: invalid command: ${e?.instancePath || "/"} ${e?.message ?? ""}\n`);
    return 2;
  }
  let client;
  try {
    client = await connectController(
      o.brokerUrl,
      security,
      Math.min(o.timeoutMs, 10_000),
      io.log ?? pino({ level: "silent" }),
      io.clock,
    );
  } catch (err) {
    if (err instanceof BrokerUnreachableError) {
      io.stderr.write(
        `labx ${command}: cannot reach the broker at ${redactUrl(o.brokerUrl)}: ${redactUrl(err.message)}\n`,
      );
      return 3;
    }
    throw err;
  }
  const color = !o.json && io.stdout.isTTY === true && !io.env.NO_COLOR;
  try {
    if (!cmd) {
      const live = createLogUpdate(io.stdout);
      await watch(client, {
        baseTopic: o.baseTopic,
        settleMs: o.settleMs,
        json: o.json,
        once: o.once,
        color,
        validators: io.validators,
        draw: io.stdout.isTTY ? (frame) => live(frame) : (frame) => io.stdout.write(frame + "\n\n"),
        print: (line) => io.stdout.write(line + "\n"),
        until: io.until,
        tick: io.stdout.isTTY === true,
        clock: io.clock,
      });
      live.done();
      return 0;
    }
    const result = await sendCommand(client, {
      baseTopic: o.baseTopic,
      target: o.target,
      command: cmd,
      timeoutMs: o.timeoutMs,
      settleMs: o.settleMs,
      validators: io.validators,
      clock: io.clock,
    });
    io.stdout.write((o.json ? JSON.stringify(result, null, 2) : renderResult(result, color)) + "\n");
    return result.ok ? 0 : 1;
  } finally {
    await client.stop();
  }
}
