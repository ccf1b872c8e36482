// What the camera preview costs the recorder, side by side in one run: the same live camera recorded
// by `labx node` with --preview-interval 0 and with the default 5 s, for the three ways a preview is
// made (preview-args.ts): a JPEG camera's own frame (640×480 MJPEG), such a frame scaled down
// (1920×1080 MJPEG, over --preview-max-kb), a keyframe decoded (1280×720 H.264 in MPEG-TS).
// CPU of the node, its ffmpeg and the short ffmpegs it runs for previews (reaped children included).
// Usage: npm run bench (or: tsx bench/preview.ts [--seconds 60]).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { readManifest } from "../node/store/manifest.js";
import { readPreviewMeta } from "../contract/preview.js";
import { writeSection } from "./doc.js";
import { children, freePort, labxNodeArgs, numArg, proc, sleep } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = numArg("seconds", 60);
const WARMUP = 5;
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-preview-"));

interface Case {
  name: string;
  size: string;
  /** The camera's encoder and container. */
  encode: string[];
  format: string;
  /** Extra node flags. */
  flags?: string[];
}
const CASES: Case[] = [
  {
    name: "640×480 MJPEG (frame as is)",
    size: "640x480",
    encode: ["-c:v", "mjpeg", "-q:v", "5"],
    format: "mjpeg",
  },
  {
    name: "1920×1080 MJPEG over --preview-max-kb 40 (frame scaled)",
    size: "1920x1080",
    encode: ["-c:v", "mjpeg", "-q:v", "5"],
    format: "mjpeg",
    flags: ["--preview-max-kb", "40"],
  },
  {
    name: "1280×720 H.264 (keyframe decoded)",
    size: "1280x720",
    encode: [
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      "30",
      "-pix_fmt",
      "yuv420p",
    ],
    format: "mpegts",
  },
];

function camera(c: Case, port: number): ChildProcess {
  return spawn(
    "ffmpeg",
    [
      ...[
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=${c.size}:rate=30`,
      ],
      ...c.encode,
      ...["-f", c.format, `tcp://127.0.0.1:${port}?listen=1`],
    ],
    { stdio: "ignore" },
  );
}

/** CPU seconds of the node (its reaped children included) and of its live children. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticks = 100;
    const own = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks;
    return own + children(pid).reduce((s, c) => s + (proc(c)?.cpu ?? 0), 0);
  } catch {
    return 0;
  }
}

async function record(c: Case, interval: number, tag: string) {
  const camPort = await freePort();
  const brokerPort = await freePort();
  const cam = camera(c, camPort);
  await sleep(1000);
  const dataDir = path.join(work, tag);
  const node = spawn(
    process.execPath,
    labxNodeArgs(root, brokerPort, [
      ...["--camera", `tcp://127.0.0.1:${camPort}`, "--stream-format", c.format, "--batch-duration", "10"],
      ...[
        "--duration",
        String(SECONDS),
        "--session",
        "s",
        "--data-dir",
        dataDir,
        "--preview-interval",
        String(interval),
      ],
      ...(c.flags ?? []),
    ]),
    { stdio: ["ignore", "ignore", openSync(path.join(work, `${tag}.log`), "w")] },
  );
  await sleep(1500);
  const previews: { bytes: number; source: string }[] = [];
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { protocolVersion: 4 });
  client.on("message", (_t, payload) => {
    const meta = readPreviewMeta(payload) as { source: string } | null;
    if (meta) previews.push({ bytes: payload.length, source: meta.source });
  });
  await client.subscribeAsync("labx/+/preview");
  await sleep((WARMUP - 1.5) * 1000);
  const c0 = cpuOf(node.pid!);
  const t0 = performance.now();
  await sleep((SECONDS - WARMUP - 2) * 1000);
  const cpuPerMin = ((cpuOf(node.pid!) - c0) / ((performance.now() - t0) / 1000)) * 60;
  if (node.exitCode === null) await new Promise((r) => node.once("exit", r));
  await client.endAsync();
  cam.kill("SIGTERM");
  const batches = readManifest(path.join(dataDir, "s", "manifest.jsonl"));
  const frames = batches.reduce((s, b) => s + b.frames, 0);
  const seconds = batches.reduce((s, b) => s + b.duration_s, 0);
  console.log(
    `${c.name}, preview ${interval} s: ${cpuPerMin.toFixed(3)} CPU s/min, ${frames} frames, ${previews.length} previews`,
  );
  return { cpuPerMin, frames, fps: frames / seconds, previews };
}

const rows: string[] = [];
for (const c of CASES) {
  const off = await record(c, 0, `${c.size}-off`);
  const on = await record(c, 5, `${c.size}-on`);
  const kb = on.previews.length
    ? on.previews.reduce((s, p) => s + p.bytes, 0) / on.previews.length / 1024
    : 0;
  const sources = [...new Set(on.previews.map((p) => p.source))].join(", ") || "none";
  rows.push(
    `| ${c.name} | ${off.cpuPerMin.toFixed(3)} | ${on.cpuPerMin.toFixed(3)} | **${((on.cpuPerMin / off.cpuPerMin - 1) * 100).toFixed(1)} %** | ${on.previews.length} (${sources}, ${kb.toFixed(0)} KiB) | ${off.frames} / ${on.frames} (${off.fps.toFixed(2)} / ${on.fps.toFixed(2)} fps) |`,
  );
}
if (!process.argv.includes("--keep")) rmSync(work, { recursive: true, force: true });

writeSection(
  "preview",
  `## Camera preview — bench/preview.ts

The same live camera (ffmpeg, real time, 30 fps, over TCP) recorded by \`labx node\` for ${SECONDS} s in 10 s
batches, once with \`--preview-interval 0\` and once with the default 5 s; CPU of the node, its ffmpeg and the
short ffmpegs it runs for previews (reaped children included), from ${WARMUP} s on, in CPU seconds per minute.

| camera (how the preview is made) | no preview | preview every 5 s | preview's share | previews (source, mean size) | frames off / on |
|---|---|---|---|---|---|
${rows.join("\n")}

A JPEG camera's preview is one of its own frames, kept by the recorder's ffmpeg (a tee slave, no decoding);
a frame over \`--preview-max-kb\` is decoded at a quarter of its size (\`-lowres\`) and a keyframe of another
codec decoded in full, each by one short ffmpeg per preview.

Command: \`npx tsx bench/preview.ts --seconds ${SECONDS}\`.`,
);
