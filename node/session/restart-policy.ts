/**
 * Pure: when to restart a failed ffmpeg. Delays grow (0.5, 1, 2, 4 s…); more than `maxFailures`
 * failures within `windowMs` means the camera is gone for good, and the session ends in `error`
 * instead of looping.
 */
export interface RestartPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxFailures: 5,
  windowMs: 60_000,
};

/** `failures` are the epoch ms of every failure so far, the latest included. Null: give up. */
export function restartDelay(
  failures: readonly number[],
  now: number,
  p = DEFAULT_RESTART_POLICY,
): number | null {
  const recent = failures.filter((t) => now - t <= p.windowMs).length;
  if (recent > p.maxFailures) return null;
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, recent - 1));
}

/**
 * Pure: an ffmpeg exit that ends the session as planned: its duration was recorded (within 0.5 s).
 * A stream that ends (EOF, exit 0) before its duration is a camera gone away, not a finished session.
 */
export function ranItsCourse(durationS: number | null, exitCode: number | null, recordedUs: number): boolean {
  return durationS !== null && exitCode === 0 && recordedUs >= (durationS - 0.5) * 1e6;
}

/**
 * Pure: whether an ffmpeg run that exited is a crash to restart from. Not when a stop was asked for,
 * when it ran its course, or when it exited cleanly once the session's time was up (frames or not: a
 * run restarted near the end, such as an MPEG-TS camera's that takes its whole probe, has nothing
 * left to record). Times in µs: the run's anchor and its last frame's end (pts), the session's zero.
 */
export function isCrash(o: {
  stopRequested: boolean;
  exitCode: number | null;
  durationS: number | null;
  anchorUs: number | null;
  lastFrameEndPtsUs: number | null;
  zeroUs: number | null;
  nowUs: number;
}): boolean {
  if (o.stopRequested) return false;
  const recordedUs =
    o.anchorUs === null || o.lastFrameEndPtsUs === null || o.zeroUs === null
      ? 0
      : o.anchorUs + o.lastFrameEndPtsUs - o.zeroUs;
  const timeUp = o.durationS !== null && o.zeroUs !== null && o.nowUs >= o.zeroUs + (o.durationS - 0.5) * 1e6;
  return !ranItsCourse(o.durationS, o.exitCode, recordedUs) && !(o.exitCode === 0 && timeUp);
}
