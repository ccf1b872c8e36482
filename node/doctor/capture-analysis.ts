// Pure: what a short test capture says about a camera, from its frames' wall-clock times.

export interface CaptureAnalysis {
  frames: number;
  /** Frames per second measured over the capture. */
  fps: number;
  /** Median interval between frames, and its spread (standard deviation), in ms. */
  intervalMs: number;
  jitterMs: number;
  /** Intervals longer than 1.5 periods: frames the camera (or the way to the node) dropped. */
  dropped: number;
  monotonic: boolean;
  /** The first frame's time minus when the capture was started (ms): within the start-up if sane. */
  firstFrameAfterStartMs: number;
  /** Bytes per second of the recorded stream. */
  bytesPerSecond: number;
}

export function analyseCapture(
  timesUs: readonly number[],
  bytes: number,
  startedUs: number,
): CaptureAnalysis | null {
  if (timesUs.length < 2) return null;
  const intervals = timesUs.slice(1).map((t, i) => t - timesUs[i]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const mean = intervals.reduce((s, x) => s + x, 0) / intervals.length;
  const variance = intervals.reduce((s, x) => s + (x - mean) ** 2, 0) / intervals.length;
  const spanUs = timesUs.at(-1)! - timesUs[0]!;
  return {
    frames: timesUs.length,
    fps: Math.round(((timesUs.length - 1) / spanUs) * 1e6 * 100) / 100,
    intervalMs: Math.round(median) / 1000,
    jitterMs: Math.round(Math.sqrt(variance)) / 1000,
    dropped: intervals.filter((x) => x > 1.5 * median).length,
    monotonic: intervals.every((x) => x > 0),
    firstFrameAfterStartMs: Math.round((timesUs[0]! - startedUs) / 1000),
    bytesPerSecond: Math.round((bytes / (spanUs + median)) * 1e6),
  };
}
