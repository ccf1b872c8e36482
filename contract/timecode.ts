// The time code (public contract): a QR code whose text is `labx-tc:<integer µs since the Unix epoch>`
// of the moment it is displayed. The dashboard's /timecode page draws one on every display refresh;
// any other tool may render it; `labx verify` reads it from recorded frames (docs/time.md).

export const TIMECODE_PREFIX = "labx-tc:";

/** The text of the time code for wall-clock µs since the epoch. */
export function formatTimecode(epochUs: number): string {
  if (!Number.isFinite(epochUs) || epochUs < 0) throw new RangeError(`not a time: ${epochUs}`);
  return `${TIMECODE_PREFIX}${Math.round(epochUs)}`;
}

/** The µs a time code's text carries, or null for any other text (1 to 17 digits, no sign, no fraction). */
export function parseTimecode(text: string): number | null {
  const m = /^labx-tc:(\d{1,17})$/.exec(text);
  if (!m) return null;
  const us = Number(m[1]);
  return Number.isSafeInteger(us) ? us : null;
}
