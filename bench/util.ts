// Small helpers shared by the bench scripts.
import { nodeV8Flags } from "../cli/node-flags.js";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A numeric `--name value` from the command line, or the default. */
export const numArg = (name: string, dflt: number): number =>
  Number(process.argv[process.argv.indexOf(`--${name}`) + 1] || dflt) || dflt;

export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

/** p50, p99 and max of a sample (nearest rank), and its size. */
export function quantiles(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: s.at(-1)!, n: s.length };
}

/**
 * `node dist/cli/labx.js node` with its own embedded broker on `port`, quiet, HA off; clock reading off,
 * or reading the chronyd whose command port is `chronyPort`.
 */
export function labxNodeArgs(root: string, port: number, extra: string[], chronyPort?: number): string[] {
  return [
    // LABX_BENCH_PLAIN_NODE=1: without them, to measure what they change.
    ...(process.env.LABX_BENCH_PLAIN_NODE ? [] : nodeV8Flags(process.versions.node)),
    `${root}/dist/cli/labx.js`,
    "node",
    "--embedded-broker",
    "--broker-port",
    String(port),
    ...(chronyPort
      ? ["--chrony-host", "127.0.0.1", "--chrony-port", String(chronyPort)]
      : ["--disable-sync"]),
    "--no-ha-discovery",
    "--log-level",
    "warn",
    ...extra,
  ];
}

const ticks = Number(execFileSync("getconf", ["CLK_TCK"]).toString());

/** A process's CPU seconds (user + system, all threads) and resident memory, from /proc; null once gone. */
export function proc(pid: number): { cpu: number; rssKb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpu: (Number(stat[11]) + Number(stat[12])) / ticks, rssKb: Number(rss?.[1] ?? 0) };
  } catch {
    return null;
  }
}
export function children(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)])
      .toString()
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * A live camera for side-by-side runs: a lavfi test source at 30 fps, in real time, encoded and served
 * over TCP to one client per port, in order, so every side records the very same frames at the same
 * moments. A side that finishes first is dropped without ending the others (onfail=ignore).
 */
export function sharedCamera(o: {
  size: string;
  encode: string[];
  format: string;
  ports: number[];
  ffmpeg?: string;
}): ChildProcess {
  const out = o.ports.map((p) => `[f=${o.format}:onfail=ignore]tcp\\://127.0.0.1\\:${p}?listen=1`).join("|");
  return spawn(
    o.ffmpeg ?? "ffmpeg",
    [
      ...[
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=${o.size}:rate=30`,
      ],
      ...["-map", "0:v", ...o.encode, "-f", "tee", out],
    ],
    { stdio: "ignore" },
  );
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (up to 30 s). */
export async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1", () => (s.end(), r(true))).on("error", () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} never opened`);
}
