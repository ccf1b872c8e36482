import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./ports.js";
import { exitedEarly, requireProgram } from "./tools.js";

export interface Broker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A real mosquitto (MQTT 5 capable) on a free loopback port; stop() kills it by PID. */
export async function startMosquitto(
  fixedPort?: number,
  opts: { persistenceDir?: string; passwordFile?: string; aclFile?: string } = {},
): Promise<Broker> {
  const dir = mkdtempSync(path.join(tmpdir(), "labx-mosq-"));
  // With a persistence folder, sessions and queued messages survive a restart (saved at SIGTERM).
  // mosquitto started as root drops to user `mosquitto`, which must be able to write its database.
  if (opts.persistenceDir) chmodSync(opts.persistenceDir, 0o777);
  // mosquitto reads the password file after dropping to user `mosquitto`: the test makes it readable.
  if (opts.passwordFile) chmodSync(opts.passwordFile, 0o644);
  if (opts.aclFile) chmodSync(opts.aclFile, 0o644);
  const auth =
    (opts.passwordFile
      ? `allow_anonymous false\npassword_file ${opts.passwordFile}\n`
      : "allow_anonymous true\n") + (opts.aclFile ? `acl_file ${opts.aclFile}\n` : "");
  const persistence = opts.persistenceDir
    ? `persistence true\npersistence_location ${opts.persistenceDir}/\n`
    : "persistence false\n";
  const port = fixedPort ?? (await freePort());
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\n${auth}${persistence}log_dest stderr\nlog_type error\n`);
  const mosquitto = requireProgram("mosquitto", "mosquitto");
  const child: ChildProcess = spawn(mosquitto, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    await Promise.race([waitForPort(port), exitedEarly(child, "mosquitto", () => stderr)]);
  } catch (err) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto did not start: ${stderr} ${(err as Error).message}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
