import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";

/** Packets in the file's video stream, counted by ffprobe (an independent reader of what we wrote). */
export function countFrames(file: string): number {
  const out = execFileSync("ffprobe", [
    "-v",
    "error",
    "-count_packets",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=nb_read_packets",
    "-of",
    "csv=p=0",
    file,
  ]).toString();
  return Number(out.trim());
}

/** Decodes every frame; throws if ffmpeg reports any error. */
export function assertPlayable(file: string): void {
  const out = execFileSync("ffmpeg", ["-v", "error", "-xerror", "-i", file, "-f", "null", "-"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (out.toString().trim()) throw new Error(`ffmpeg complained about ${file}: ${out.toString()}`);
}

/** Whether the file's first video packet is a keyframe (ffprobe's flags): where a copied stream can begin. */
export function opensWithKeyframe(file: string): boolean {
  const flags = execFileSync("ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0"],
    ...["-read_intervals", "%+#1", file],
  ]).toString();
  return flags.trim().startsWith("K");
}

/** The key flag of every video packet of the file, in order (ffprobe's flags). */
export function keyFlags(file: string): boolean[] {
  return execFileSync("ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0", file],
  ])
    .toString()
    .trim()
    .split("\n")
    .map((l) => l.startsWith("K"));
}

/** The JPEGs of an MJPEG batch file, copied out back to back, as they were recorded. */
export function mjpegBytes(file: string): Buffer {
  return execFileSync(
    "ffmpeg",
    ["-v", "error", "-i", file, "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-"],
    {
      maxBuffer: 512 << 20,
    },
  );
}

/** A sidecar's epoch_s text ("1796170957.874588") as epoch µs, without float rounding. */
export function epochUs(text: string): number {
  const [sec, frac = "0"] = text.split(".") as [string, string?];
  return Number(sec) * 1e6 + Number(frac.padEnd(6, "0"));
}

export function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

export function mkvFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".mkv"))
    .sort();
}

/** One real JPEG from ffmpeg (a lavfi test source at this size), with ffmpeg's own comment segment. */
export function testJpeg(size: string, source = "testsrc2"): Buffer {
  return execFileSync("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `${source}=size=${size}`],
    ...["-frames:v", "1", "-f", "mjpeg", "pipe:1"],
  ]);
}
