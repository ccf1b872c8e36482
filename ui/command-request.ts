// Pure: a command typed into the dashboard, checked exactly as a node would check it, before it is
// sent. Whatever the page posts is data: it is validated against schemas/command.schema.json and
// never reaches a shell, a file name or the page unescaped.
import type { Command } from "../contract/generated/payloads.js";
import type { Validators } from "../contract/schemas.js";
import { isTarget } from "../contract/names.js";

export interface CommandRequest {
  target: string;
  command: Command;
}

export class BadRequestError extends Error {}

/**
 * `{target, command, start_in_s?}`: start_in_s (0-86400) becomes the command's `at`, from this
 * process's clock (the dashboard's host, synchronized like the nodes), not the browser's.
 */
export function parseCommandRequest(body: unknown, validators: Validators, nowMs: number): CommandRequest {
  if (typeof body !== "object" || body === null)
    throw new BadRequestError("the request must be a JSON object");
  const { target, command, start_in_s: startIn } = body as Record<string, unknown>;
  if (!isTarget(target))
    throw new BadRequestError(
      "target must be a node id, a group or all (1-64 characters of A-Z a-z 0-9 _ -)",
    );
  if (typeof command !== "object" || command === null) throw new BadRequestError("command must be an object");
  const cmd: Record<string, unknown> = { ...(command as Record<string, unknown>) };
  if (startIn !== undefined && startIn !== null) {
    if (cmd.cmd !== "start") throw new BadRequestError("start_in_s goes with a start");
    if (typeof startIn !== "number" || !(startIn >= 0 && startIn <= 86_400))
      throw new BadRequestError("start_in_s must be a number of seconds from 0 to 86400");
    if (cmd.at !== undefined) throw new BadRequestError("give either at or start_in_s");
    if (startIn > 0) cmd.at = new Date(nowMs + startIn * 1000).toISOString();
  }
  if (!validators.command(cmd)) {
    const e = validators.command.errors?.[0];
    throw new BadRequestError(
      `command ${e?.instancePath || ""} ${e?.message ?? "is invalid"}`.replace(/\s+/g, " "),
    );
  }
  return { target, command: cmd as Command };
}
