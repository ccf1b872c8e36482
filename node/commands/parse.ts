import type { Command } from "../../contract/generated/payloads.js";
import { describeErrors, type Validators } from "../../contract/schemas.js";
import { CommandError } from "../../contract/reply-codes.js";

export const COMMAND_NAMES = ["start", "stop", "status", "calibrate"] as const;

export type Parsed =
  { ok: true; command: Command } | { ok: false; id: string | null; cmd: string | null; error: CommandError };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Raw payload → a schema-valid command, or a coded error that still echoes what could be read. */
export function parseCommand(payload: Buffer, validators: Validators, maxBytes: number): Parsed {
  const fail = (
    code: CommandError["code"],
    message: string,
    id: string | null = null,
    cmd: string | null = null,
  ): Parsed => ({
    ok: false,
    id,
    cmd,
    error: new CommandError(code, message),
  });
  // Refused before decoding or parsing, so a huge payload costs nothing.
  if (payload.length > maxBytes)
    return fail("PAYLOAD_TOO_LARGE", `payload of ${payload.length} bytes exceeds ${maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(payload).trim();
  } catch {
    return fail("INVALID_JSON", "payload is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: a bare word from mosquitto_pub or a dashboard button.
    if (!/^[a-z_]{1,32}$/.test(text))
      return fail("INVALID_JSON", "payload is not JSON, nor one of the words start, stop, status");
    value = { cmd: text };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return fail("INVALID_PAYLOAD", "a command must be a JSON object or a bare word");
  const obj = value as Record<string, unknown>;
  const id = typeof obj.id === "string" && obj.id.length <= 128 ? obj.id : null;
  const cmd = typeof obj.cmd === "string" && obj.cmd.length <= 32 ? obj.cmd : null;
  if (obj.cmd === undefined) return fail("INVALID_PAYLOAD", 'missing field "cmd"', id);
  if (typeof obj.cmd !== "string") return fail("INVALID_PAYLOAD", '"cmd" must be a string', id);
  if (!(COMMAND_NAMES as readonly string[]).includes(obj.cmd))
    return fail(
      "UNKNOWN_CMD",
      `unknown command "${cmd ?? obj.cmd.slice(0, 32)}"; known: ${COMMAND_NAMES.join(", ")}`,
      id,
      cmd,
    );
  if (!validators.command(value))
    return fail("INVALID_PAYLOAD", describeErrors(validators.command.errors), id, cmd);
  return { ok: true, command: value };
}
