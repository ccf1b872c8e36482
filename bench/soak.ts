// Completeness and soak in one long recording from the fake camera (ground truth: it stamps every
// JPEG with its number and logs what it sent): frames recorded versus sent, batches contiguous, and
// the node's RSS and open file descriptors sampled throughout, with their slopes.
// Usage: npm run bench (or: tsx bench/soak.ts [--minutes 60] [--batch 10]).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readManifest } from "../node/data/manifest.js";
import { frameNumbers } from "../test/helpers/fake-camera.js";
import { writeSection } from "./doc.js";
import { freePort, numArg, sleep, labxNodeArgs } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = numArg;
const MINUTES = arg("minutes", 60);
const BATCH = arg("batch", 10);
const SAMPLE_S = Math.max(1, Math.min(10, (MINUTES * 60) / 60));
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-soak-"));

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

const camPort = await freePort();
const log = path.join(work, "sent.csv");
const camera = spawn(
  process.execPath,
  ["--import", "tsx", path.join(root, "test/helpers/fake-camera.ts"), String(camPort), log, "30"],
  {
    cwd: root,
    stdio: "ignore",
  },
);
await sleep(1500);
console.log(
  `soak: ${MINUTES} min from the fake camera (MJPEG over TCP, 30 fps), ${BATCH} s batches, sampling every ${SAMPLE_S} s…`,
);
const node = spawn(
  process.execPath,
  labxNodeArgs(root, await freePort(), [
    "--camera",
    `tcp://127.0.0.1:${camPort}`,
    "--stream-format",
    "mjpeg",
    "--duration",
    String(MINUTES * 60),
    "--batch-duration",
    String(BATCH),
    "--session",
    "soak",
    "--data-dir",
    work,
  ]),
  // Its warnings (each ffmpeg restart with ffmpeg's own reason) are kept for the report.
  { stdio: ["ignore", openSync(path.join(work, "node-warnings.log"), "w"), "ignore"] },
);
const samples: { t: number; rssMb: number; fds: number }[] = [];
const t0 = Date.now();
const timer = setInterval(() => {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${node.pid}/status`, "utf8"))![1]) / 1024;
    const fds = readdirSync(`/proc/${node.pid}/fd`).length;
    samples.push({ t: (Date.now() - t0) / 1000, rssMb: rss, fds });
  } catch {
    // exiting
  }
}, SAMPLE_S * 1000);
const code = await new Promise<number | null>((r) => node.once("exit", r));
clearInterval(timer);
camera.kill("SIGTERM");

const sent = readFileSync(log, "utf8")
  .trim()
  .split("\n")
  .map((l) => Number(l.split(",")[0]));
const manifest = readManifest(path.join(work, "soak", "manifest.jsonl"));
const recorded: number[] = [];
for (const b of manifest) {
  const bytes = execFileSync(
    "ffmpeg",
    ["-v", "error", "-i", path.join(work, b.file), "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-"],
    { maxBuffer: 1 << 30 },
  );
  recorded.push(...frameNumbers(bytes));
}
const first = recorded[0]!;
const last = recorded.at(-1)!;
const expected = sent.filter((n) => n >= first && n <= last);
const have = new Set(recorded);
const lost = expected.filter((n) => !have.has(n)).length;
const duplicated = recorded.length - have.size;
const gaps = manifest
  .slice(1)
  .filter((b, i) => b.start !== manifest[i]!.end || b.seq !== manifest[i]!.seq + 1).length;
// Start-up (the first minute, or the first fifth of a short run) is left out of the slopes.
const restarts = readFileSync(path.join(work, "node-warnings.log"), "utf8")
  .split("\n")
  .filter((l) => l.includes("ffmpeg died"))
  .map((l) => (JSON.parse(l) as { exit?: unknown }).exit);
const steady = samples.filter((s) => s.t >= Math.min(60, MINUTES * 12));
const rssSlope = slope(steady.map((s) => [s.t / 3600, s.rssMb]));
const fdSlope = slope(steady.map((s) => [s.t / 3600, s.fds]));
const maxRss = Math.max(...samples.map((s) => s.rssMb));
const fdsRange = [Math.min(...samples.map((s) => s.fds)), Math.max(...samples.map((s) => s.fds))];
const at = (frac: number) => samples[Math.min(samples.length - 1, Math.floor(frac * samples.length))]!;

const text = `## Completeness and soak (${MINUTES} min) — bench/soak.ts

One node (its own process, embedded broker) records the fake camera (test/helpers/fake-camera.ts: MJPEG
over TCP at 30 fps, every JPEG stamped with its number, every sent frame logged) for ${MINUTES} minutes in
${BATCH} s batches. Afterwards every batch file is read back and its frame numbers compared with the
camera's log; the node's RSS and open file descriptors were sampled every ${SAMPLE_S} s (slopes by least
squares over the samples after the first minute). The node exited with code ${code}.

| figure | value |
|---|---|
| frames sent by the camera while recording | ${expected.length} |
| frames recorded | ${recorded.length} |
| frames lost | **${lost}** |
| frames recorded twice | ${duplicated} |
| batches (in manifest) | ${manifest.length}, ${gaps === 0 ? "contiguous: each start is the previous end, seq without holes" : `**${gaps} discontinuities**`} |
| node RSS: at 10 % / 50 % / 100 % of the run | ${at(0.1).rssMb.toFixed(1)} / ${at(0.5).rssMb.toFixed(1)} / ${at(1).rssMb.toFixed(1)} MiB |
| node RSS: peak, slope | ${maxRss.toFixed(1)} MiB, **${rssSlope.toFixed(2)} MiB/hour** |
| ffmpeg restarts (exit of each) | ${restarts.length}${restarts.length ? `: ${restarts.map((e) => JSON.stringify(e)).join(", ")}` : ""} |
| node open fds: range, slope | ${fdsRange[0]}–${fdsRange[1]}, **${fdSlope.toFixed(2)} per hour** |

Command: \`npx tsx bench/soak.ts --minutes ${MINUTES} --batch ${BATCH}\`.`;
console.log(text);
writeSection("soak", text);
process.exit(0);
