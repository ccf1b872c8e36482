import { execFile } from "node:child_process";

// What the ffmpeg in use accepts where releases differ, found by trying it (never from its version
// string: distributions backport, git builds have no release number).
// - `-enc_time_base demux`: ffmpeg 6.1 and later name "the input's time base" so; 5.1 knows only -1,
//   which 7.1 still takes but calls deprecated (a later release may refuse it).
// Noted for the cost issue: 7.1 also has -stats_mux_pre (per-packet times before muxing), 5.1 not.

export interface FfmpegCapabilities {
  /** How the encoder is told to keep the input's (µs) time base. */
  encTimeBase: "demux" | "-1";
}

/** What any ffmpeg labx runs on takes: the answer when the trial itself could not run. */
export const BASELINE_CAPABILITIES: FfmpegCapabilities = Object.freeze({ encTimeBase: "-1" });

/** Pure: one frame encoded with `-enc_time_base demux` into nothing; exit 0 where it is understood. */
export function encTimeBaseTrialArgs(): string[] {
  return [
    ...["-hide_banner", "-nostdin", "-loglevel", "error"],
    ...["-f", "lavfi", "-i", "nullsrc=s=16x16:r=30:d=0.04"],
    ...["-frames:v", "1", "-c:v", "mjpeg", "-enc_time_base", "demux", "-f", "null", "-"],
  ];
}

/** Tries the binary (~50 ms). Never rejects: a trial that cannot run gives the baseline. */
export function probeFfmpegCapabilities(
  ffmpegPath: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 10_000,
): Promise<FfmpegCapabilities> {
  return new Promise((resolve) => {
    execFile(ffmpegPath, encTimeBaseTrialArgs(), { env, timeout: timeoutMs }, (err) =>
      resolve(err ? BASELINE_CAPABILITIES : { encTimeBase: "demux" }),
    );
  });
}
