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
