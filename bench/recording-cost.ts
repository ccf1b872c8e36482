// Cost of recording: CPU seconds and peak RSS of `labx node` (node + its ffmpeg) against bare ffmpeg
// run with the identical arguments, both under /usr/bin/time -v, side by side in one run.
// Usage: npm run bench [-- --seconds 60]. Prints a table and rewrites docs/benchmarks.md.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildFfmpegArgs } from "../node/recorder/ffmpeg-args.js";
import { readManifest } from "../node/batches/manifest.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 60) || 60;
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) {
  console.error("needs GNU time: apt-get install time");
  process.exit(2);
}
if (!existsSync(path.join(root, "dist/node/cli.js")))
  execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
const ffmpeg = execFileSync("sh", ["-c", "command -v ffmpeg"]).toString().trim();

interface Measured {
  userS: number;
  sysS: number;
  maxRssKb: number;
  wallS: number;
}

function parseTime(stderr: string): Measured {
  const num = (label: string): number => Number(new RegExp(`${label}: ([\\d.:]+)`).exec(stderr)?.[1] ?? NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/
    .exec(stderr)![1]!
    .split(":")
    .map(Number);
  return {
    userS: num("User time \\(seconds\\)"),
    sysS: num("System time \\(seconds\\)"),
    maxRssKb: num("Maximum resident set size \\(kbytes\\)"),
    wallS: wall.reduce((acc, v) => acc * 60 + v, 0),
  };
}

/** Runs a command under time -v; samples the direct child's own RSS peak (VmHWM) and CPU from /proc. */
async function timed(
  cmd: string[],
  cwd: string,
): Promise<Measured & { childHwmKb: number; childCpuS: number }> {
  const p = spawn(TIME, ["-v", ...cmd], { cwd, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let childHwmKb = 0;
  let childCpuS = 0;
  const ticks = Number(execFileSync("getconf", ["CLK_TCK"]).toString());
  const sampler = setInterval(() => {
    try {
      const child = execFileSync("pgrep", ["-P", String(p.pid)])
        .toString()
        .trim()
        .split("\n")[0];
      const status = readFileSync(`/proc/${child}/status`, "utf8");
      childHwmKb = Math.max(childHwmKb, Number(/VmHWM:\s+(\d+)/.exec(status)![1]));
      const stat = readFileSync(`/proc/${child}/stat`, "utf8").split(") ")[1]!.split(" ");
      childCpuS = (Number(stat[11]) + Number(stat[12])) / ticks;
    } catch {
      // not started yet, or gone
    }
  }, 250);
  await new Promise((r) => p.on("exit", r));
  clearInterval(sampler);
  const tail = stderr
    .split("\n")
    .filter((l) => !l.startsWith("{"))
    .join("\n");
  return { ...parseTime(tail), childHwmKb, childCpuS };
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
console.log(`recording ${seconds} s of the synthetic camera (640x480@30, MJPEG, 10 s batches), twice…`);
const bare = await timed([ffmpeg, ...args], work);
const port = 20000 + Math.floor(Math.random() * 20000);
const node = await timed(
  [
    "node",
    path.join(root, "dist/node/cli.js"),
    "node",
    "--embedded-broker",
    "--broker-host",
    "127.0.0.1",
    "--broker-port",
    String(port),
    "--duration",
    String(seconds),
    "--batch-duration",
    "10",
    "--session",
    "bench",
    "--data-dir",
    path.join(work, "data"),
    "--log-level",
    "warn",
  ],
  work,
);
const batches = readManifest(path.join(work, "data", "bench", "manifest.jsonl"));
const frames = batches.reduce((n, b) => n + b.frames, 0);
rmSync(work, { recursive: true, force: true });

const cpu = (m: Measured) => m.userS + m.sysS;
const rows = [
  [
    "bare ffmpeg, same arguments",
    cpu(bare).toFixed(2),
    "—",
    (bare.maxRssKb / 1024).toFixed(1),
    bare.wallS.toFixed(1),
  ],
  [
    "labx node + its ffmpeg",
    cpu(node).toFixed(2),
    node.childCpuS.toFixed(2),
    (node.childHwmKb / 1024).toFixed(1),
    node.wallS.toFixed(1),
  ],
];
const ratio = cpu(node) / cpu(bare);
const table = [
  "| run | CPU s (user+sys, with children) | node process alone, CPU s | peak RSS MiB (ffmpeg alone / node process alone) | wall s |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
const summary = `node + ffmpeg use ${ratio.toFixed(3)}× the CPU of bare ffmpeg (${((ratio - 1) * 100).toFixed(1)} % more, start-up included); node peak RSS ${(node.childHwmKb / 1024).toFixed(1)} MiB; ${batches.length} batches, ${frames} frames (${seconds * 30} expected at 30 fps).`;
console.log(table + "\n\n" + summary);

const cpuModel = cpus()[0]?.model ?? "unknown";
const doc = `# Benchmarks

Written by \`npm run bench\` (bench/recording-cost.ts); rerun it to refresh. Figures are from one run on
this machine: ${cpus().length} × ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${execFileSync(ffmpeg, ["-version"]).toString().split("\n")[0]}, Node ${process.version}.
The machine is shared and noisy: compare the two rows of one run, not runs across days.

## Cost of recording (${seconds} s, synthetic camera)

Both rows record ${seconds} s of the synthetic camera (lavfi testsrc2 640×480 @ 30 fps, MJPEG-encoded,
10 s batches). "Bare ffmpeg" runs the very argument list the node builds (\`buildFfmpegArgs\`), so the
difference is the node: Node.js start-up, embedded broker, reading ffmpeg's per-frame lines, sha256 of
each batch, manifest fsync and MQTT announcements. CPU is \`/usr/bin/time -v\` user + system time, which
includes waited-for children (ffmpeg). The node's own peak RSS is its VmHWM sampled from /proc every
250 ms; \`time -v\`'s maximum RSS for the node run (${(node.maxRssKb / 1024).toFixed(1)} MiB) is that of its largest process.
Generating and encoding the synthetic pattern dominates both rows; with a real MJPEG camera ffmpeg only
copies, so the node's share is larger (issue 7 measures that case).

${table}

${summary}

Commands: \`/usr/bin/time -v ffmpeg ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ")}\` and
\`/usr/bin/time -v node dist/node/cli.js node --embedded-broker --duration ${seconds} --batch-duration 10 --session bench --data-dir …\`.
`;
writeFileSync(path.join(root, "docs", "benchmarks.md"), doc);
console.log("wrote docs/benchmarks.md");
