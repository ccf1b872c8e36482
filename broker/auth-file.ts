import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { isName, isReserved } from "../contract/names.js";
import type { AclUser } from "./acl.js";
import { isPasswordHash } from "./password.js";

export interface AuthUser extends AclUser {
  password_hash: string;
}

/** The --auth-file format (JSON). Make a hash with `labx passwd` (reads the password on stdin). */
const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["users"],
  properties: {
    users: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["username", "password_hash", "role"],
        properties: {
          username: { type: "string", minLength: 1, maxLength: 128 },
          password_hash: { type: "string" },
          role: { enum: ["node", "join", "controller", "monitor", "admin"] },
          node: { type: "string" },
          groups: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
} as const;

export class AuthFileError extends Error {}

/** Reads and checks the auth file once; the result is frozen. Throws AuthFileError with the reason. */
export function loadAuthFile(file: string): ReadonlyMap<string, Readonly<AuthUser>> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new AuthFileError(`${file}: ${(err as Error).message}`);
  }
  const validate = new Ajv({ allErrors: false }).compile(SCHEMA);
  if (!validate(data)) {
    const e = validate.errors?.[0];
    throw new AuthFileError(`${file}: ${e?.instancePath || "/"} ${e?.message ?? "is invalid"}`);
  }
  const users = new Map<string, Readonly<AuthUser>>();
  for (const u of (data as { users: AuthUser[] }).users) {
    if (!isPasswordHash(u.password_hash))
      throw new AuthFileError(
        `${file}: user ${u.username}: password_hash is not a labx passwd hash (plain passwords are refused)`,
      );
    if (u.role === "node" && !isName(u.node ?? u.username))
      throw new AuthFileError(`${file}: user ${u.username}: a node user needs a valid node id`);
    for (const name of u.role === "node" ? [u.node ?? u.username, ...(u.groups ?? [])] : [])
      if (isReserved(name))
        throw new AuthFileError(
          `${file}: user ${u.username}: "${name}" is reserved, no node or group can have it`,
        );
    if (users.has(u.username)) throw new AuthFileError(`${file}: user ${u.username} is listed twice`);
    users.set(u.username, Object.freeze({ ...u, groups: Object.freeze([...(u.groups ?? [])]) }));
  }
  return users;
}
