import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";
import { exitedEarly, requireProgram } from "./tools.js";

export interface Chronyd {
  /** The NTP port (server) or command port (client) others talk to. */
  port: number;
  cmdPort: number;
  stop(): Promise<void>;
}

/** A real chronyd in the foreground (-d), never touching the system clock (-x), stopped by PID. */
async function chronyd(
  name: string,
  lines: (dir: string, cmdPort: number) => string[],
  port: number,
): Promise<Chronyd> {
  const dir = mkdtempSync(path.join(tmpdir(), `labx-chrony-${name}-`));
  const cmdPort = await freePort();
  const conf = path.join(dir, "chrony.conf");
  writeFileSync(
    conf,
    [
      ...lines(dir, cmdPort),
      `cmdport ${cmdPort}`,
      "bindcmdaddress 127.0.0.1",
      `pidfile ${dir}/chronyd.pid`,
    ].join("\n") + "\n",
  );
  const chronyd = requireProgram("chronyd", "chrony");
  const child: ChildProcess = spawn(chronyd, ["-d", "-x", "-u", "root", "-f", conf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    await Promise.race([
      new Promise((r) => setTimeout(r, 300)),
      exitedEarly(child, `chronyd ${name}`, () => stderr),
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    cmdPort,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback NTP server: its own local clock at stratum 8. */
export async function startChronyServer(fixedPort?: number): Promise<Chronyd> {
  const port = fixedPort ?? (await freePort());
  return chronyd(
    "server",
    () => ["local stratum 8", "allow 127.0.0.1", `port ${port}`, "bindaddress 127.0.0.1"],
    port,
  );
}

/** A client polling that server 16 times a second, so it syncs (and notices loss) within a second. */
export async function startChronyClient(serverPort: number): Promise<Chronyd> {
  return chronyd(
    "client",
    () => [`server 127.0.0.1 port ${serverPort} iburst minpoll -4 maxpoll -4`, "port 0"],
    0,
  );
}
