import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, tempDir } from "./node.js";
import { freePort, waitForPort } from "./ports.js";

export interface SentFrame {
  n: number;
  /** The time its code shows: the frame's exposure. */
  captureUs: number;
  sentUs: number;
}

export interface TimecodeCamera {
  url: string;
  /** Every frame sent to a client, from the camera's log. */
  sent(): Map<number, SentFrame>;
  stop(): void;
}

/** test/helpers/timecode-camera.ts as its own process: frames showing their capture time, delivered late. */
export async function startTimecodeCamera(
  fps: number,
  latencyMs: number,
  jitterMs: number,
): Promise<TimecodeCamera> {
  const port = await freePort();
  const log = path.join(tempDir(), "sent.csv");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "test/helpers/timecode-camera.ts")].concat(
      [port, fps, latencyMs, jitterMs].map(String),
      [log],
    ),
    { cwd: ROOT, stdio: "ignore" },
  );
  try {
    await waitForPort(port, 20_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    url: `tcp://127.0.0.1:${port}`,
    sent: () =>
      new Map(
        readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .filter((l) => l)
          .map((l) => {
            const [n, captureUs, sentUs] = l.split(",").map(Number) as [number, number, number];
            return [n, { n, captureUs, sentUs }];
          }),
      ),
    stop: () => child.kill("SIGTERM"),
  };
}
