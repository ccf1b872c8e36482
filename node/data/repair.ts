import { execFile } from "node:child_process";
import { rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Pure: ffmpeg arguments that stream-copy a batch ffmpeg never closed (no cues, no final cluster
 * size) into a well-formed Matroska file, and print one framecrc line per packet it could read.
 */
export function repairArgs(input: string, output: string): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-i",
    input,
    "-map",
    "0:v:0",
    "-c",
    "copy",
    "-f",
    "matroska",
    output,
    "-map",
    "0:v:0",
    "-c",
    "copy",
    "-f",
    "framecrc",
    "-",
  ];
}

/** Pure: frames in framecrc output. */
export function countFrames(framecrc: string): number {
  return framecrc.split("\n").filter((l) => /^\d+,/.test(l)).length;
}

/**
 * Makes a partial batch playable in place; returns the frames it holds. A file with no readable frame
 * is removed (0). ffmpeg's "File ended prematurely" is expected here and not an error.
 */
export async function repairBatch(
  ffmpegPath: string,
  file: string,
  env: Readonly<Record<string, string>>,
): Promise<number> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.repair.mkv`);
  const stdout = await new Promise<string>((resolve) => {
    execFile(ffmpegPath, repairArgs(file, tmp), { maxBuffer: 64 * 1024 * 1024, env }, (_err, out) =>
      resolve(out),
    );
  });
  const frames = countFrames(stdout);
  if (frames === 0) {
    await rm(tmp, { force: true });
    await rm(file, { force: true });
    return 0;
  }
  await rename(tmp, file);
  return frames;
}
