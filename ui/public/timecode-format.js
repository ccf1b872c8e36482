// The time code's text, as contract/timecode.ts specifies it (a unit test holds the two together):
// `labx-tc:<integer µs since the Unix epoch>`.
export const TIMECODE_PREFIX = "labx-tc:";

/** @param {number} epochUs */
export function formatTimecode(epochUs) {
  return TIMECODE_PREFIX + String(Math.round(epochUs));
}
