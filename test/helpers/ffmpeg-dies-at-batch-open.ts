// A stand-in ffmpeg (the real one, wrapped) for one fault that cannot be timed from outside: the
// first recording run is killed -9 right after ffmpeg has opened a new batch and reported its first
// frame, before the frame reaches the file (Matroska clusters are flushed every 200 ms). Every other
// invocation (later runs, the repair remux) is the real ffmpeg unchanged.
// Usage: this file's path as a script, with LABX_REAL_FFMPEG and LABX_MARKER in the environment.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";

const real = process.env.LABX_REAL_FFMPEG ?? "ffmpeg";
const marker = process.env.LABX_MARKER!;
const args = process.argv.slice(2);
const recording = args.includes("tee");
const child = spawn(real, args, { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.on("SIGTERM", () => child.kill("SIGTERM"));
process.on("SIGINT", () => child.kill("SIGINT"));

if (recording && !existsSync(marker)) {
  // The node hands ffmpeg its timeline file as stdout: watch it for "segment line, then a frame".
  const timeline = readlinkSync("/proc/self/fd/1");
  const timer = setInterval(() => {
    const lines = readFileSync(timeline, "utf8").split("\n");
    const seg = lines.findIndex((l) => l.includes(".mkv,"));
    if (seg < 0 || !lines.slice(seg + 1).some((l) => /^0,/.test(l))) return;
    clearInterval(timer);
    writeFileSync(marker, lines[seg]!);
    child.kill("SIGKILL");
  }, 2);
}
