// Cost of recording a live MJPEG camera, side by side: `labx node` (node + its ffmpeg) against bare
// ffmpeg with the identical arguments. The camera is a separate ffmpeg serving MJPEG over TCP in real
// time (excluded from both sides), so ffmpeg only copies, as with a USB camera's MJPEG.
// Usage: npm run bench (or: tsx bench/live-cost.ts [--seconds 75] [--warmup 15] [--sizes 640x480,1920x1080] [--batches 10,60]).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readManifest } from "../node/batches/manifest.js";
import { buildFfmpegArgs } from "../node/recorder/ffmpeg-args.js";
import { writeSection } from "./doc.js";
import { freePort, sleep, labxNodeArgs } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const opt = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SECONDS = Number(opt("seconds", "75"));
const WARMUP = Number(opt("warmup", "15"));
const SIZES = opt("sizes", "640x480,1920x1080").split(",");
const BATCHES = opt("batches", "10,60").split(",").map(Number);
const ticks = Number(execFileSync("getconf", ["CLK_TCK"]).toString());
const ffmpeg = execFileSync("sh", ["-c", "command -v ffmpeg"]).toString().trim();
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-live-"));

function proc(pid: number): { cpu: number; rssKb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpu: (Number(stat[11]) + Number(stat[12])) / ticks, rssKb: Number(rss?.[1] ?? 0) };
  } catch {
    return null;
  }
}
function children(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)])
      .toString()
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The camera: testsrc2 encoded to MJPEG in real time, served once over TCP. */
function camera(size: string, port: number): ChildProcess {
  return spawn(
    ffmpeg,
    [
      "-hide_banner",
      "-loglevel",
      "error",
      "-re",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${size}:rate=30`,
      "-c:v",
      "mjpeg",
      "-q:v",
      "5",
      "-f",
      "mjpeg",
      `tcp://127.0.0.1:${port}?listen=1`,
    ],
    { stdio: "ignore" },
  );
}

interface Sampled {
  startupCpu: number;
  steadyCpuPerMin: number;
  nodePeakRssMb: number;
  ffmpegPeakRssMb: number;
  frames: number;
  batches: number;
}

/** Samples the process and its ffmpeg child every 250 ms: CPU at WARMUP and at the end, peak RSS. */
async function sampled(p: ChildProcess, isNode: boolean): Promise<Omit<Sampled, "frames" | "batches">> {
  const t0 = Date.now();
  let atWarm: number | null = null;
  let last = { t: 0, cpu: 0 };
  let nodeRss = 0;
  let ffRss = 0;
  const timer = setInterval(() => {
    const own = proc(p.pid!);
    if (!own) return;
    const kids = isNode
      ? children(p.pid!)
          .map(proc)
          .filter((x) => x !== null)
      : [];
    const cpu = own.cpu + kids.reduce((a, k) => a + k.cpu, 0);
    if (isNode) {
      nodeRss = Math.max(nodeRss, own.rssKb);
      ffRss = Math.max(ffRss, ...kids.map((k) => k.rssKb), 0);
    } else ffRss = Math.max(ffRss, own.rssKb);
    const t = (Date.now() - t0) / 1000;
    if (atWarm === null && t >= WARMUP) atWarm = cpu;
    if (kids.length || !isNode) last = { t, cpu };
  }, 250);
  await new Promise((r) => p.once("exit", r));
  clearInterval(timer);
  const warm = atWarm ?? 0;
  return {
    startupCpu: warm,
    steadyCpuPerMin: ((last.cpu - warm) / Math.max(1, last.t - WARMUP)) * 60,
    nodePeakRssMb: nodeRss / 1024,
    ffmpegPeakRssMb: ffRss / 1024,
  };
}

async function run(kind: "bare" | "node", size: string, batch: number): Promise<Sampled> {
  const port = await freePort();
  const cam = camera(size, port);
  await sleep(500);
  const dir = path.join(work, `${kind}-${size}-${batch}`);
  mkdirSync(dir, { recursive: true });
  const url = `tcp://127.0.0.1:${port}`;
  let p: ChildProcess;
  if (kind === "bare") {
    const args = buildFfmpegArgs({
      camera: url,
      streamFormat: "mjpeg",
      videoSize: size,
      framerate: 30,
      inputFormat: "mjpeg",
      codec: "auto",
      batchDuration: batch,
      duration: SECONDS,
      filePattern: "BARE_%05d.mkv",
    });
    const out = openSync(path.join(dir, "stdout.txt"), "w");
    p = spawn(ffmpeg, args, { cwd: dir, stdio: ["ignore", out, "ignore"] });
    closeSync(out);
  } else {
    p = spawn(
      process.execPath,
      labxNodeArgs(root, await freePort(), [
        "--camera",
        url,
        "--stream-format",
        "mjpeg",
        "--video-size",
        size,
        "--batch-duration",
        String(batch),
        "--duration",
        String(SECONDS),
        "--session",
        "live",
        "--data-dir",
        dir,
      ]),
      { stdio: "ignore" },
    );
  }
  const s = await sampled(p, kind === "node");
  cam.kill("SIGTERM");
  let frames = 0;
  let batches = 0;
  if (kind === "node") {
    const m = readManifest(path.join(dir, "live", "manifest.jsonl"));
    batches = m.length;
    frames = m.reduce((a, b) => a + b.frames, 0);
  } else {
    frames = readFileSync(path.join(dir, "stdout.txt"), "utf8")
      .split("\n")
      .filter((l) => /^0,/.test(l)).length;
    batches = readFileSync(path.join(dir, "stdout.txt"), "utf8")
      .split("\n")
      .filter((l) => l.includes(".mkv,")).length;
  }
  return { ...s, frames, batches };
}

const rows: string[] = [];
const notes: string[] = [];
console.log(
  `live-cost: ${SIZES.join(", ")} × batches ${BATCHES.join(", ")} s, ${SECONDS} s each, bare then node…`,
);
const rss10: number[] = [];
const rss60: number[] = [];
for (const size of SIZES)
  for (const batch of BATCHES) {
    const bare = await run("bare", size, batch);
    const node = await run("node", size, batch);
    const ratio = node.steadyCpuPerMin / bare.steadyCpuPerMin;
    (batch === BATCHES[0] ? rss10 : rss60).push(node.nodePeakRssMb);
    rows.push(
      `| ${size} | ${batch} s | ${bare.steadyCpuPerMin.toFixed(2)} | ${node.steadyCpuPerMin.toFixed(2)} | **${ratio.toFixed(2)}×** | ${bare.startupCpu.toFixed(2)} / ${node.startupCpu.toFixed(2)} | ${bare.ffmpegPeakRssMb.toFixed(1)} | ${node.nodePeakRssMb.toFixed(1)} + ${node.ffmpegPeakRssMb.toFixed(1)} | ${bare.frames} / ${node.frames} |`,
    );
    console.log(rows.at(-1));
    if (ratio > 1.15) notes.push(`${size}, ${batch} s batches: ${ratio.toFixed(2)}× misses the 15 % floor.`);
  }

const text = `## Cost of recording a live MJPEG camera — bench/live-cost.ts

The camera is its own ffmpeg (\`-re -f lavfi -i testsrc2=size=WxH:rate=30 -c:v mjpeg -q:v 5 -f mjpeg
tcp://…?listen=1\`), outside both measured sides. "Bare" is ffmpeg run with the very argument list the
node builds (\`buildFfmpegArgs\`, \`--stream-format mjpeg\`, stream copy into Matroska batches plus the
per-frame timeline), stdout to a file. "Node" is \`labx node --embedded-broker --camera tcp://…\`: the
node process (embedded broker, timeline parsing, sha256 of each batch, manifest fsync, MQTT
announcements) plus its ffmpeg. CPU is sampled from /proc every 250 ms; steady state is from ${WARMUP} s to
the end of a ${SECONDS} s recording, given per recorded minute; start-up is the CPU used in the first ${WARMUP} s.

| size | batch | bare CPU s/min | node + ffmpeg CPU s/min | ratio | start-up CPU s (bare / node) | bare ffmpeg peak RSS MiB | node + its ffmpeg peak RSS MiB | frames (bare / node) |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

- Node peak RSS with ${BATCHES[0]} s batches: ${rss10.map((x) => x.toFixed(1)).join(", ")} MiB; with ${BATCHES[1]} s batches: ${rss60.map((x) => x.toFixed(1)).join(", ")} MiB (it must not grow with batch length: batches are streamed to disk by ffmpeg, never held).
${notes.length ? notes.map((n) => `- ${n}`).join("\n") : "- Every row is within the 15 % floor."}

Command: \`npx tsx bench/live-cost.ts --seconds ${SECONDS} --warmup ${WARMUP} --sizes ${SIZES.join(",")} --batches ${BATCHES.join(",")}\`.`;
console.log(text);
writeSection("live-cost", text);
process.exit(0);
