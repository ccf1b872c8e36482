import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, tempDir } from "./node.js";
import { freePort, waitForPort } from "./ports.js";

export interface FakeCamera {
  url: string;
  /** Frame number → wall-clock µs it was sent, for every frame sent to a client. */
  sent(): Map<number, number>;
  stop(): void;
}

/**
 * A camera helper (test/helpers/<script>) as its own process, its timing away from our event loop:
 * `node --import tsx <script> PORT LOGFILE ...args`; resolves once it listens.
 */
export async function spawnCamera(
  script: string,
  args: (number | string)[],
): Promise<{ port: number; child: ChildProcess; rows: () => number[][] }> {
  const port = await freePort();
  const log = path.join(tempDir(), "sent.csv");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "test/helpers", script), String(port), log, ...args.map(String)],
    { cwd: ROOT, stdio: "ignore" },
  );
  try {
    await waitForPort(port, 20_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  // The log's lines, split at commas into numbers.
  const rows = (): number[][] =>
    readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l)
      .map((l) => l.split(",").map(Number));
  return { port, child, rows };
}

/** test/helpers/fake-camera.ts as its own process (its timing must not share our event loop). */
export async function startFakeCamera(
  fps: number,
  stall?: { atFrame: number; ms: number },
  protocol: "tcp" | "http" = "tcp",
  silentMs = 0,
  /** At frame atFrame the camera drops its client and takes none for ms. */
  drop?: { atFrame: number; ms: number },
): Promise<FakeCamera> {
  const { port, child, rows } = await spawnCamera("fake-camera.ts", [
    fps,
    stall ? `${stall.atFrame}:${stall.ms}` : "",
    protocol,
    "320x240",
    silentMs,
    drop ? `${drop.atFrame}:${drop.ms}` : "",
  ]);
  return {
    url: protocol === "http" ? `http://127.0.0.1:${port}/cam` : `tcp://127.0.0.1:${port}`,
    sent: () => new Map(rows().map(([n, sent]) => [n!, sent!])),
    stop: () => child.kill("SIGTERM"),
  };
}
