import { execFile } from "node:child_process";
import { promisify } from "node:util";

// Which ffmpeg a node records with, and whether labx is tested with it. The tested range is what CI
// runs the ffmpeg-dependent tests against: Debian 12's ffmpeg 5.1 and Debian 13's 7.1 (README, "Runs on").

export interface FfmpegVersion {
  /** The version as ffmpeg prints it ("5.1.8-0+deb12u1", "7.1.5-0+deb13u1", "N-118000-g…"). */
  text: string;
  /** Major and minor, when the version names a release (a git build's "N-…" does not). */
  release: { major: number; minor: number } | null;
}

export const TESTED_FFMPEG = { from: { major: 5, minor: 1 }, to: { major: 7, minor: 1 } } as const;
export const TESTED_FFMPEG_TEXT = "5.1 to 7.1";

/** Pure: the version in `ffmpeg -version`'s first line, or null when it is not ffmpeg's banner. */
export function parseFfmpegVersion(firstLine: string): FfmpegVersion | null {
  const m = /^ffmpeg version (\S+)/.exec(firstLine.trim());
  if (!m) return null;
  const text = m[1]!;
  const r = /^n?(\d+)\.(\d+)/.exec(text);
  return { text, release: r ? { major: Number(r[1]), minor: Number(r[2]) } : null };
}

/** Pure: whether that version lies in the tested range (a build without a release number: unknown). */
export function inTestedRange(v: FfmpegVersion): boolean | null {
  if (!v.release) return null;
  const n = (x: { major: number; minor: number }) => x.major * 1000 + x.minor;
  return n(v.release) >= n(TESTED_FFMPEG.from) && n(v.release) <= n(TESTED_FFMPEG.to);
}

/** Pure: one line for a person: the version and whether labx is tested with it. */
export function describeFfmpegVersion(v: FfmpegVersion): string {
  const tested = inTestedRange(v);
  if (tested) return `ffmpeg ${v.text} (tested: labx is tested with ${TESTED_FFMPEG_TEXT})`;
  return `ffmpeg ${v.text} (${tested === null ? "not a release build" : "not in the tested range"}: labx is tested with ${TESTED_FFMPEG_TEXT})`;
}

/** Asks the binary. Rejects with ffmpeg's own error when it cannot run or does not print a banner. */
export async function readFfmpegVersion(
  ffmpegPath: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 10_000,
): Promise<FfmpegVersion> {
  const { stdout } = await promisify(execFile)(ffmpegPath, ["-hide_banner", "-version"], {
    timeout: timeoutMs,
    env,
  });
  const first = stdout.split("\n")[0] ?? "";
  const v = parseFfmpegVersion(first);
  if (!v) throw new Error(`not ffmpeg's version banner: ${first.slice(0, 120)}`);
  return v;
}
