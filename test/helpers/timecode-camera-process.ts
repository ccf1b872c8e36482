import { spawnCamera } from "./fake-camera-process.js";

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
  const { port, child, rows } = await spawnCamera("timecode-camera.ts", [fps, latencyMs, jitterMs]);
  return {
    url: `tcp://127.0.0.1:${port}`,
    sent: () =>
      new Map(
        rows().map(([n, captureUs, sentUs]) => [n!, { n: n!, captureUs: captureUs!, sentUs: sentUs! }]),
      ),
    stop: () => child.kill("SIGTERM"),
  };
}
