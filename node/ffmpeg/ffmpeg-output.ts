// Pure parsers for what ffmpeg prints: its stdout (segment list + framecrc lines) and stderr.

export type StdoutLine =
  /** pts and duration in ticks of the stream's time base (the "#tb" line before the frames). */
  | { kind: "frame"; pts: number; duration: number; bytes: number; key: boolean }
  | { kind: "segment"; file: string; start: number; end: number }
  | { kind: "timebase"; num: number; den: number }
  | { kind: "other" };

const FRAME = /^(\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*(\d+),/;
const SEGMENT = /^([A-Za-z0-9_.-]+\.mkv),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/;
const TIMEBASE = /^#tb 0: (\d+)\/(\d+)$/;

export function parseStdoutLine(line: string): StdoutLine {
  const trimmed = line.trim();
  let m = FRAME.exec(trimmed);
  if (m) {
    // framecrc prints the flags only when they are not "keyframe" alone (F=0x0: not a keyframe).
    const flags = /, F=0x([0-9A-Fa-f]+)/.exec(trimmed);
    const key = flags ? (parseInt(flags[1]!, 16) & 1) === 1 : true;
    return { kind: "frame", pts: Number(m[3]), duration: Number(m[4]), bytes: Number(m[5]), key };
  }
  m = SEGMENT.exec(trimmed);
  if (m) return { kind: "segment", file: m[1]!, start: Number(m[2]), end: Number(m[3]) };
  m = TIMEBASE.exec(trimmed);
  if (m) return { kind: "timebase", num: Number(m[1]), den: Number(m[2]) };
  return { kind: "other" };
}

/**
 * The input's start time in epoch µs, from "Duration: N/A, start: 1764064800.123456, bitrate: N/A".
 * With wall-clock or mono2abs timestamps this is the capture time of the first frame, and ffmpeg's
 * output timestamps count from it.
 */
export function parseInputStart(line: string): number | null {
  const m = /Duration: [^,]+, start: (-?\d+)\.(\d{1,6})/.exec(line);
  if (!m) return null;
  const frac = m[2]!.padEnd(6, "0");
  const sign = m[1]!.startsWith("-") ? -1 : 1;
  return Number(m[1]) * 1_000_000 + sign * Number(frac);
}

/** The demuxer ffmpeg reads its input with, from its "Input #0, <name>, from '…':" line, or null. */
export function parseInputFormat(line: string): string | null {
  const m = /Input #0, ([a-z0-9_,]+), from /.exec(line);
  return m ? m[1]! : null;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

/** Splits a "-loglevel level+info" line into its level and text. */
export function parseStderrLine(line: string): { level: LogLevel; text: string } {
  const m = /^\[(?:[^\]]*\] )?\[?(panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/.exec(line);
  if (!m) return { level: "info", text: line };
  const lvl = m[1]!;
  // The once-a-second progress line is for debugging, not the log.
  if (/^frame=\s*\d+/.test(m[2]!)) return { level: "debug", text: line };
  const level: LogLevel =
    lvl === "panic" || lvl === "fatal" || lvl === "error"
      ? "error"
      : lvl === "warning"
        ? "warn"
        : lvl === "info"
          ? "info"
          : "debug";
  return { level, text: line };
}
