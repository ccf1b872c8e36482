// Pure order statistics shared by the session summary and the sync certificate.

/** The p-quantile (0..1) of an ascending array: the value at floor(p·n), NaN when empty. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Rounded to the µs of a value in ms (the certificate's and the summary's precision). */
export const ms3 = (ms: number): number => Math.round(ms * 1000) / 1000;
