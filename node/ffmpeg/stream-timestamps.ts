// Pure: the bitstream filters and the filter that set a recorded frame's timestamp: the half
// millisecond every frame is moved back before muxing, and what a copied network stream needs for each
// frame to keep its own arrival time (docs/time.md).

/**
 * Ticks (of the stream's time base) that every timestamp is moved back before it is muxed; ffmpeg's
 * setts evaluates this expression and muxShiftTicks below the same one, in the same IEEE doubles.
 *
 * Why: the segment muxer decides where a batch ends on timestamps already rounded to Matroska's 1 ms,
 * to the nearest ms, so a frame less than 0.5 ms before a boundary opened the next batch (the three-node
 * schedule test once saw batch 1 start 492 µs before at + 1 s). Moved back by half a millisecond (or
 * the largest whole number of ticks not above it), the rounding becomes "at or after the boundary" for
 * every time base finer than 1 ms, and nothing for coarser ones. Only which file a frame lands in
 * changes: the assembler adds the shift back (batch-assembler.ts), so every time we report is unmoved.
 *
 * A run's first frame is muxed at the timeline's zero, its own time + 1 tick carried in its duration
 * (FIRST_AT_ZERO; batch-assembler.ts reads it back): ffmpeg 7.1's segment muxer counts the batch grid
 * from the first timestamp it is given (segment.c, reference_stream_first_pts), 5.1's from zero. A
 * synchronized start's first frame comes after `at`, a restarted run's anywhere in its batch: with its
 * own time first, 7.1 cut every later batch that much late (batch-boundaries.test.ts, ffmpeg-crash.test.ts
 * on Debian 13). The first frame opens the run's first file whatever its time (no cut before a file holds
 * a frame), so only its time inside that file moves: to the grid's zero.
 */
export const MUX_SHIFT_EXPR = "floor(0.0005/TB+1e-9)";
/**
 * The first packet (N = 0) at zero, its own time + 1 tick as its duration (a muxer takes a duration of 0
 * for "unknown" and writes 1), the others as `later`. A first frame before zero (a copied H.264
 * stream's, estimated a frame before the first one read) keeps its time: a duration cannot be negative.
 */
function firstAtZero(later: string): string {
  const first = (atZero: string, before: string) => `if(gte(TS\\,0)\\,${atZero}\\,${before})`;
  return `setts=ts=if(N\\,${later}\\,${first("0", "TS")}):duration=if(N\\,DURATION\\,${first("TS+1", "DURATION")})`;
}

export function muxShiftTicks(num: number, den: number): number {
  return Math.floor(0.0005 / (num / den) + 1e-9);
}

export const shiftBack = ["-bsf:v", firstAtZero(`TS-${MUX_SHIFT_EXPR}`)];

/**
 * A stream whose frames ffmpeg hands over when the next one begins: frame n's arrival stamp is the
 * moment frame n+1 began to arrive, so frame n+1 takes it (PREV_INPTS), and the first frame its own
 * less its duration. Measured on a UDP MPEG-TS camera against its send log: 33.8 ms late without
 * this (one frame at 30 fps), 0.5 ms with it (udp.test.ts).
 */
const PREVIOUS_ARRIVAL = "setts=ts=if(eq(PREV_INPTS\\,NOPTS)\\,TS-DURATION\\,PREV_INPTS)";
/**
 * A frame that reaches ffmpeg's parser without a timestamp (an RTSP H.264 camera's first, read while
 * ffmpeg probes the stream: the timestamp is lost with the probe's buffer, and ffmpeg would give the
 * frame the next one's) is stamped one frame duration before the next, its dts being ffmpeg's
 * prediction of the next. Measured against the wire (rtsp.test.ts): 33 ms late without this.
 */
const UNSTAMPED_FIRST =
  "setts=pts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,PTS):dts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,DTS)";
/**
 * The same for a decoded stream (re-encoded codecs) with the setpts filter's PREV_INPTS; the first
 * frame, whose own arrival is unknown (a filter has no DURATION to subtract), is dropped.
 */
export const PREVIOUS_ARRIVAL_FILTER = "setpts=if(isnan(PREV_INPTS)\\,PTS\\,PREV_INPTS),select=gte(n\\,1)";

/** What a copied stream's timestamps need. */
export interface StreamTimestamps {
  /** ffmpeg hands each frame over when the next begins (CameraArgs.lateHandover). */
  lateHandover: boolean;
  /** HTTP multipart MJPEG read by the raw mjpeg demuxer: each part's headers trail a JPEG in its packet. */
  multipart: boolean;
}

/**
 * The -bsf:v chain of a copied stream. Frames that arrive in a burst (a camera or network stalls, then
 * catches up) carry arrival stamps µs apart; at Matroska's 1 ms resolution two of them collide, the
 * segment muxer refuses the equal timestamp and ffmpeg dies (the soak bench lost frames this way).
 * Spacing each frame at least 1 ms (or one tick of a coarser time base) after the one before keeps
 * every frame, moved by at most a few ms; shifted back as every codec is (MUX_SHIFT_EXPR).
 */
export function copiedStreamFilters(s: StreamTimestamps): string {
  return [
    // Re-assembling each JPEG from its marker segments drops whatever lies between EOI and the next SOI
    // (the part headers): the batch holds the camera's JPEGs, byte for byte.
    ...(s.multipart ? ["filter_units=pass_types=0-255"] : []),
    UNSTAMPED_FIRST,
    ...(s.lateHandover ? [PREVIOUS_ARRIVAL] : []),
    firstAtZero(`max(TS-${MUX_SHIFT_EXPR}\\,PREV_OUTPTS+ceil(0.001/TB))`),
  ].join(",");
}
