// SVG file → PNG by ffmpeg's librsvg decoder (Debian's ffmpeg has it; a build without it cannot: the
// caller keeps the SVG and says so). Arguments only, no shell. (From a pipe, ffmpeg cannot size an SVG.)
import { spawn } from "node:child_process";

export async function svgToPng(ffmpegPath: string, svgFile: string, pngFile: string): Promise<void> {
  const args = ["-nostdin", "-v", "error", "-f", "svg_pipe", "-i", svgFile, "-frames:v", "1", "-y", pngFile];
  const ff = spawn(ffmpegPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  ff.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    ff.on("error", reject);
    ff.on("close", resolve);
  });
  if (code !== 0) throw new Error(`ffmpeg could not draw the plot: ${stderr.trim() || `exit ${code}`}`);
}
