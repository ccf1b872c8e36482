// Cost of recording: CPU seconds and peak RSS of `labx node` (node + its ffmpeg) against bare ffmpeg
// run with the identical arguments, both under /usr/bin/time -v, side by side in one run.
// Usage: npm run bench [-- --seconds 60]. Prints a table and rewrites docs/benchmarks.md.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildFfmpegArgs } from "../node/recorder/ffmpeg-args.js";
import { readManifest } from "../node/batches/manifest.js";
import { writeSection } from "./doc.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 60) || 60;
const WARMUP_S = 10;
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) {
  console.error("needs GNU time: apt-get install time");
  process.exit(2);
}
const ffmpeg = execFileSync("sh", ["-c", "command -v ffmpeg"]).toString().trim();
const ticks = Number(execFileSync("getconf", ["CLK_TCK"]).toString());

interface Measured {
  cpuS: number;
  maxRssKb: number;
  wallS: number;
  /** The process time -v ran: its own VmHWM and CPU, and its CPU at WARMUP_S into the run. */
  ownHwmKb: number;
  ownCpuS: number;
  ownCpuAtWarmup: number;
  /** CPU of that process's children (the node's ffmpeg). */
  childrenCpuS: number;
}

function cpuOf(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(stat[11]) + Number(stat[12])) / ticks;
}

function childrenOf(pid: string | number): string[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)])
      .toString()
      .trim()
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Runs a command under time -v, stdout to a file (as the node does), sampling /proc every 250 ms. */
async function timed(cmd: string[], cwd: string): Promise<Measured> {
  const out = openSync(path.join(cwd, `stdout-${Date.now()}.txt`), "w");
  const p = spawn(TIME, ["-v", ...cmd], { cwd, stdio: ["pipe", out, "pipe"] });
  closeSync(out);
  let stderr = "";
  p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const m = { ownHwmKb: 0, ownCpuS: 0, ownCpuAtWarmup: 0, childrenCpuS: 0 };
  const started = Date.now();
  const sampler = setInterval(() => {
    try {
      const own = childrenOf(p.pid!)[0];
      if (!own) return;
      const status = readFileSync(`/proc/${own}/status`, "utf8");
      m.ownHwmKb = Math.max(m.ownHwmKb, Number(/VmHWM:\s+(\d+)/.exec(status)![1]));
      m.ownCpuS = cpuOf(own);
      if (Date.now() - started < WARMUP_S * 1000) m.ownCpuAtWarmup = m.ownCpuS;
      const kids = childrenOf(own);
      if (kids.length) m.childrenCpuS = kids.map(cpuOf).reduce((a, b) => a + b, 0);
    } catch {
      // the process is starting or gone
    }
  }, 250);
  await new Promise((r) => p.on("exit", r));
  clearInterval(sampler);
  const num = (label: string): number => Number(new RegExp(`${label}: ([\\d.]+)`).exec(stderr)?.[1] ?? NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/
    .exec(stderr)![1]!
    .split(":")
    .map(Number);
  return {
    cpuS: num("User time \\(seconds\\)") + num("System time \\(seconds\\)"),
    maxRssKb: num("Maximum resident set size \\(kbytes\\)"),
    wallS: wall.reduce((acc, v) => acc * 60 + v, 0),
    ...m,
  };
}

const work = mkdtempSync(path.join(tmpdir(), "labx-bench-"));
const args = buildFfmpegArgs({
  camera: "synthetic",
  videoSize: "640x480",
  framerate: 30,
  inputFormat: "mjpeg",
  codec: "auto",
  batchDuration: 10,
  duration: seconds,
  filePattern: "BARE_bench_%05d.mkv",
});
console.log(`recording ${seconds} s of the synthetic camera (640x480@30, MJPEG, 10 s batches), 4 times…`);
const nodeCmd = (session: string): string[] => [
  "node",
  path.join(root, "dist/node/cli.js"),
  "node",
  "--embedded-broker",
  "--broker-host",
  "127.0.0.1",
  "--broker-port",
  String(20000 + Math.floor(Math.random() * 20000)),
  "--duration",
  String(seconds),
  "--batch-duration",
  "10",
  "--session",
  session,
  "--data-dir",
  path.join(work, "data"),
  "--log-level",
  "warn",
];
// ABBA order (bare, node, node, bare) so that drift on a shared machine does not favour either side.
const bareRuns: Measured[] = [];
const nodeRuns: Measured[] = [];
bareRuns.push(await timed([ffmpeg, ...args], work));
nodeRuns.push(await timed(nodeCmd("bench1"), work));
nodeRuns.push(await timed(nodeCmd("bench2"), work));
bareRuns.push(await timed([ffmpeg, ...args], work));
const batches = readManifest(path.join(work, "data", "bench2", "manifest.jsonl"));
const frames = batches.reduce((n, b) => n + b.frames, 0);
rmSync(work, { recursive: true, force: true });
const mean = (runs: Measured[]): Measured => {
  const keys = Object.keys(runs[0]!) as (keyof Measured)[];
  return Object.fromEntries(
    keys.map((k) => [k, runs.reduce((a, r) => a + r[k], 0) / runs.length]),
  ) as unknown as Measured;
};
const bare = mean(bareRuns);
const node = mean(nodeRuns);

const mib = (kb: number) => (kb / 1024).toFixed(1);
const steadyPerMin = ((node.ownCpuS - node.ownCpuAtWarmup) / (seconds - WARMUP_S)) * 60;
const bareRow = (label: string, m: Measured) =>
  `| ${label} | ${m.cpuS.toFixed(2)} | — | ${m.ownCpuS.toFixed(2)} | ${mib(m.ownHwmKb)} | — | ${m.wallS.toFixed(1)} |`;
const nodeRow = (label: string, m: Measured) =>
  `| ${label} | ${m.cpuS.toFixed(2)} | ${m.ownCpuS.toFixed(2)} | ${m.childrenCpuS.toFixed(2)} | — | ${mib(m.ownHwmKb)} | ${m.wallS.toFixed(1)} |`;
const table = [
  "| run | CPU s, total (time -v) | node process, CPU s | ffmpeg, CPU s | ffmpeg peak RSS MiB | node peak RSS MiB | wall s |",
  "|---|---|---|---|---|---|---|",
  bareRow("bare ffmpeg, round 1", bareRuns[0]!),
  nodeRow("labx node + its ffmpeg, round 1", nodeRuns[0]!),
  nodeRow("labx node + its ffmpeg, round 2", nodeRuns[1]!),
  bareRow("bare ffmpeg, round 2", bareRuns[1]!),
  bareRow("**bare ffmpeg, mean**", bare),
  nodeRow("**labx node + ffmpeg, mean**", node),
].join("\n");
const summary = [
  `- node + ffmpeg: ${(node.cpuS / bare.cpuS).toFixed(3)}× the CPU of bare ffmpeg over the whole ${seconds} s run, start-up included.`,
  `- the node process: ${node.ownCpuAtWarmup.toFixed(2)} CPU s for start-up and the first ${WARMUP_S} s, then ${steadyPerMin.toFixed(2)} CPU s per recorded minute (${((steadyPerMin / 60) * 100).toFixed(2)} % of one core).`,
  `- node peak RSS ${mib(Math.max(...nodeRuns.map((r) => r.ownHwmKb)))} MiB (the larger of the two runs); ${batches.length} batches, ${frames} frames (${seconds * 30} expected at 30 fps).`,
].join("\n");
console.log(table + "\n\n" + summary);

writeSection(
  "recording-cost",
  `## Cost of recording (${seconds} s, synthetic camera) — bench/recording-cost.ts

Both rows record ${seconds} s of the synthetic camera (lavfi testsrc2 640×480 @ 30 fps, MJPEG-encoded, 10 s
batches). "Bare ffmpeg" runs the very argument list the node builds (\`buildFfmpegArgs\`), stdout to a file
as in the node, so the difference is the node: Node.js start-up, the embedded broker, reading ffmpeg's
per-frame timeline every 500 ms, sha256 of each batch, the manifest fsync and MQTT announcements.
Runs go in ABBA order (bare, node, node, bare). "Total" is \`/usr/bin/time -v\` user + system time
including waited-for children; the per-process columns are sampled from /proc every 250 ms (so they can
miss the last quarter second). Generating and encoding the synthetic pattern dominates; with a real
MJPEG camera ffmpeg only copies and the node's share is larger (issue 7 measures that case).

${table}

${summary}

Commands: \`/usr/bin/time -v ffmpeg ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ")}\`
and \`/usr/bin/time -v node dist/node/cli.js node --embedded-broker --duration ${seconds} --batch-duration 10 --session bench --data-dir …\`.`,
);
