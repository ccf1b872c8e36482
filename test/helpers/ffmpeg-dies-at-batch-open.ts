// A stand-in ffmpeg (the real one, wrapped) for one fault that cannot be timed from outside: the
// first LABX_KILLS (default 1) recording runs are each killed -9 right after ffmpeg has opened a new
// batch and reported its first frame, before the frame reaches the file (Matroska clusters are
// flushed every 200 ms). A run after the first is killed at its very first frame, so it leaves nothing
// on disk. Every other invocation (later runs, the repair remux) is the real ffmpeg unchanged.
// Usage: this file's path as a script, with LABX_REAL_FFMPEG and LABX_MARKER in the environment;
// the marker gets one line per kill: the closed batch's segment line, or "first frame".
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, readlinkSync } from "node:fs";

const real = process.env.LABX_REAL_FFMPEG ?? "ffmpeg";
const marker = process.env.LABX_MARKER!;
const args = process.argv.slice(2);
const recording = args.includes("tee");
const kills = Number(process.env.LABX_KILLS ?? 1);
const killed = existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean).length : 0;
const child = spawn(real, args, { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.on("SIGTERM", () => child.kill("SIGTERM"));
process.on("SIGINT", () => child.kill("SIGINT"));

if (recording && killed < kills) {
  // The node hands ffmpeg its timeline file as stdout: watch it for "segment line, then a frame".
  const timeline = readlinkSync("/proc/self/fd/1");
  const timer = setInterval(() => {
    const lines = readFileSync(timeline, "utf8").split("\n");
    // A closed batch's line is written when it closes: the frame after it is the next batch's first.
    const seg = killed === 0 ? lines.findIndex((l) => l.includes(".mkv,")) : -1;
    if (killed === 0 && seg < 0) return;
    if (!lines.slice(seg + 1).some((l) => /^0,/.test(l))) return;
    clearInterval(timer);
    appendFileSync(marker, `${seg < 0 ? "first frame" : lines[seg]!}\n`);
    child.kill("SIGKILL");
  }, 2);
}
