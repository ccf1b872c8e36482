import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";

// A real second host on this machine: a network namespace joined to this one by a veth pair, with a
// /30 of 10.231.x.x of the test's own (the only non-loopback addresses a test may use). Its programs
// run with `ip netns exec`. Both ends are removed by the helper's finally, whatever the test does.

export interface SecondHost {
  /** This machine's address on the link (what the second host connects to). */
  hostAddress: string;
  /** The second host's own address. */
  peerAddress: string;
  /** Runs a program on the second host to its end: exit code, stdout, stderr (never throws on exit codes). */
  run(
    file: string,
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts a long-lived program on the second host; stopped (SIGTERM, then SIGKILL) by the helper. */
  start(file: string, args: string[], env?: Record<string, string>): ChildProcess;
}

let counter = 0;

export async function withSecondHost<T>(test: (h: SecondHost) => Promise<T>): Promise<T> {
  const n = (process.pid % 200) + 20 + (counter++ % 30);
  const ns = `labxt${process.pid}x${counter}`;
  const here = `lxh${process.pid % 100000}${counter}`.slice(0, 15);
  const there = `lxp${process.pid % 100000}${counter}`.slice(0, 15);
  const hostAddress = `10.231.${n}.1`;
  const peerAddress = `10.231.${n}.2`;
  const ip = (...args: string[]): void => void execFileSync("ip", args, { stdio: "pipe" });
  const children: ChildProcess[] = [];
  try {
    ip("netns", "add", ns);
    ip("link", "add", here, "type", "veth", "peer", "name", there);
    ip("link", "set", there, "netns", ns);
    ip("addr", "add", `${hostAddress}/30`, "dev", here);
    ip("link", "set", here, "up");
    ip("netns", "exec", ns, "ip", "addr", "add", `${peerAddress}/30`, "dev", there);
    ip("netns", "exec", ns, "ip", "link", "set", there, "up");
    ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    const host: SecondHost = {
      hostAddress,
      peerAddress,
      run: async (file, args, env = {}) => {
        try {
          const { stdout, stderr } = await promisify(execFile)("ip", ["netns", "exec", ns, file, ...args], {
            env: { ...process.env, ...env },
            timeout: 60_000,
          });
          return { code: 0, stdout, stderr };
        } catch (err) {
          const e = err as { code?: unknown; stdout?: string; stderr?: string };
          return {
            code: typeof e.code === "number" ? e.code : -1,
            stdout: e.stdout ?? "",
            stderr: e.stderr ?? "",
          };
        }
      },
      start: (file, args, env = {}) => {
        const child = spawn("ip", ["netns", "exec", ns, file, ...args], {
          env: { ...process.env, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
        children.push(child);
        return child;
      },
    };
    return await test(host);
  } finally {
    for (const c of children) await stop(c);
    for (const args of [
      ["link", "del", here],
      ["netns", "del", ns],
    ])
      try {
        ip(...args);
      } catch {
        // already gone (deleting one end of a veth pair deletes both)
      }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
