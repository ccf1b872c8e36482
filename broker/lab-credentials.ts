// The lab's generated logins: at the first start of a broker with no --auth-file, a controller login
// for people and a join login for other nodes, kept in <data-dir>/.labx/ (folder 0700, files 0600):
// credentials.json (the passwords, for `labx credentials`) and auth.json (their scrypt hashes, an
// ordinary --auth-file). Nothing here reaches MQTT or a log.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { LabCredentials } from "../contract/generated/payloads.js";
import type { Validators } from "../contract/schemas.js";
import { hashPassword } from "./password.js";
import type { Clock } from "../platform/clock.js";

/** The folder in the data directory that no session can take (names cannot start with '.'). */
export const LAB_DIR = ".labx";
export const CONTROLLER_USER = "lab";
export const JOIN_USER = "join";

export interface LabAuthPaths {
  dir: string;
  authFile: string;
  credentialsFile: string;
}

export function labAuthPaths(dataDir: string): LabAuthPaths {
  const dir = path.join(dataDir, LAB_DIR);
  return { dir, authFile: path.join(dir, "auth.json"), credentialsFile: path.join(dir, "credentials.json") };
}

export class LabCredentialsError extends Error {}

/** 24 random bytes: 32 characters of base64url. */
const newPassword = (): string => randomBytes(24).toString("base64url");

/** Writes a file only its owner can read, whole or not at all (a temporary file renamed over it). */
async function writePrivate(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const h = await open(tmp, "w", 0o600);
  try {
    await h.chmod(0o600); // an existing temporary file keeps its mode otherwise
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, file);
}

/** Reads the lab's credentials; null when none were made yet. Throws LabCredentialsError when unreadable. */
export async function readLabCredentials(
  dataDir: string,
  validators: Pick<Validators, "labCredentials">,
): Promise<LabCredentials | null> {
  const { credentialsFile } = labAuthPaths(dataDir);
  let text: string;
  try {
    text = await readFile(credentialsFile, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new LabCredentialsError(`${credentialsFile}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new LabCredentialsError(`${credentialsFile}: not JSON`);
  }
  if (!validators.labCredentials(data)) {
    const e = validators.labCredentials.errors?.[0];
    throw new LabCredentialsError(
      `${credentialsFile}: ${e?.instancePath || "/"} ${e?.message ?? "is invalid"}`,
    );
  }
  return data;
}

/** Writes both files for `creds` (auth.json first: a broker never finds passwords without their hashes). */
async function writeLab(dataDir: string, creds: LabCredentials): Promise<void> {
  const { dir, authFile, credentialsFile } = labAuthPaths(dataDir);
  // The data directory keeps its own mode; only the logins' folder is the owner's alone.
  await mkdir(dataDir, { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  // Both hashes at once: scrypt runs in libuv's pool, so a first start waits for one, not two.
  const [controllerHash, joinHash] = await Promise.all([
    hashPassword(creds.controller.password),
    hashPassword(creds.join.password),
  ]);
  const users = [
    { username: creds.controller.username, role: "controller", password_hash: controllerHash },
    { username: creds.join.username, role: "join", password_hash: joinHash },
  ];
  await writePrivate(authFile, JSON.stringify({ users }, null, 2) + "\n");
  await writePrivate(credentialsFile, JSON.stringify(creds, null, 2) + "\n");
}

/**
 * The lab's credentials, made at the first call (`created`), read at every later one. auth.json is
 * written again from them when it is missing.
 */
export async function ensureLabCredentials(
  dataDir: string,
  validators: Pick<Validators, "labCredentials">,
  clock: Clock,
): Promise<{ created: boolean; credentials: LabCredentials; authFile: string }> {
  const paths = labAuthPaths(dataDir);
  const existing = await readLabCredentials(dataDir, validators);
  if (existing) {
    const auth = await readFile(paths.authFile).catch(() => null);
    if (auth === null) await writeLab(dataDir, existing);
    return { created: false, credentials: existing, authFile: paths.authFile };
  }
  const credentials = makeCredentials(new Date(clock.now()));
  await writeLab(dataDir, credentials);
  return { created: true, credentials, authFile: paths.authFile };
}

/** New passwords for both logins (`labx credentials --rotate`); a running broker takes them at its next start. */
export async function rotateLabCredentials(dataDir: string, clock: Clock): Promise<LabCredentials> {
  const credentials = makeCredentials(new Date(clock.now()));
  await writeLab(dataDir, credentials);
  return credentials;
}

function makeCredentials(at: Date): LabCredentials {
  return {
    version: 1,
    created_at: at.toISOString(),
    controller: { username: CONTROLLER_USER, password: newPassword() },
    join: { username: JOIN_USER, password: newPassword() },
  };
}
