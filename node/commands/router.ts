import type { IPublishPacket } from "mqtt";
import type { Logger } from "pino";
import type { Command, NodeState, Reply } from "../../contract/generated/payloads.js";
import type { Validators } from "../../contract/schemas.js";
import type { ErrorCode } from "../../contract/reply-codes.js";
import { SessionError, type SessionRefusal } from "../session/session-errors.js";

/** The recorder's refusals as the contract's reply codes (docs/errors.md). */
const REPLY_CODE: Readonly<Record<SessionRefusal, ErrorCode>> = {
  already_active: "ALREADY_RECORDING",
  not_active: "NOT_RECORDING",
  bad_schedule: "BAD_SCHEDULE",
  session_exists: "SESSION_EXISTS",
  disk_full: "DISK_FULL",
  camera_unavailable: "CAMERA_UNAVAILABLE",
  inexact_times: "INEXACT_TIMES",
  clock_unsynced: "CLOCK_UNSYNCED",
};
import { parseCommand } from "./parse.js";

export type Handler<C extends Command = Command> = (command: C) => Promise<NodeState>;
export type Handlers = { [K in Command["cmd"]]: Handler<Extract<Command, { cmd: K }>> };

export interface RouterOptions {
  node: string;
  validators: Validators;
  maxPayloadBytes: number;
  handlers: Handlers;
  log: Logger;
  /** Delivers the reply (reply topic, and the v5 response topic when the packet named one). */
  reply: (reply: Reply, packet: IPublishPacket) => Promise<void>;
}

/**
 * Name → handler table; every outcome, including a thrown error, becomes exactly one reply that
 * echoes the caller's id. Nothing a client sends can make this throw.
 */
export class CommandRouter {
  constructor(private readonly opts: RouterOptions) {}

  async handle(payload: Buffer, packet: IPublishPacket): Promise<void> {
    const reply = await this.dispatch(payload);
    await this.opts
      .reply(reply, packet)
      .catch((err: unknown) => this.opts.log.error({ err }, "reply not delivered"));
  }

  async dispatch(payload: Buffer): Promise<Reply> {
    const { node } = this.opts;
    const parsed = parseCommand(payload, this.opts.validators, this.opts.maxPayloadBytes);
    if (!parsed.ok) {
      this.opts.log.info({ code: parsed.error.code, id: parsed.id }, "command refused");
      return {
        id: parsed.id,
        cmd: parsed.cmd,
        node,
        ok: false,
        code: parsed.error.code,
        message: parsed.error.message,
      };
    }
    const { command } = parsed;
    const id = command.id ?? null;
    try {
      const handler = this.opts.handlers[command.cmd] as Handler;
      const state = await handler(command);
      return { id, cmd: command.cmd, node, ok: true, session: state.session, state };
    } catch (err) {
      if (err instanceof SessionError) {
        const code = REPLY_CODE[err.reason];
        this.opts.log.info({ code, id, cmd: command.cmd, reason: err.message }, "command refused");
        return { id, cmd: command.cmd, node, ok: false, code, message: err.message };
      }
      this.opts.log.error({ err, id, cmd: command.cmd }, "command failed");
      return {
        id,
        cmd: command.cmd,
        node,
        ok: false,
        code: "INTERNAL",
        message: (err as Error).message ?? String(err),
      };
    }
  }
}
