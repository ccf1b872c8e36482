// What the camera preview costs the recorder, side by side in one run: the same live camera recorded
// by `labx node` with --preview-interval 0 and with the default 5 s, for the three ways a preview is
// made (preview-args.ts): a JPEG camera's own frame (640×480 MJPEG), such a frame scaled down
// (1920×1080 MJPEG, over --preview-max-kb), a keyframe decoded (1280×720 H.264 in MPEG-TS).
// CPU of the node, its recording ffmpeg and its preview decoder (children, reaped ones included).
// Usage: npm run bench (or: tsx bench/preview.ts [--seconds 60]).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { readManifest } from "../node/data/manifest.js";
import { readPreviewMeta } from "../contract/preview.js";
import { writeSection } from "./doc.js";
import { children, freePort, labxNodeArgs, numArg, proc, sharedCamera, sleep } from "./util.js";

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

interface Side {
  node: ChildProcess;
  dataDir: string;
  previews: { bytes: number; source: string }[];
  close: () => Promise<void>;
}

async function startSide(c: Case, camPort: number, interval: number, tag: string): Promise<Side> {
  const brokerPort = await freePort();
  const dataDir = path.join(work, tag);
  const node = spawn(
    process.execPath,
    labxNodeArgs(root, brokerPort, [
      ...["--camera", `tcp://127.0.0.1:${camPort}`, "--stream-format", c.format, "--batch-duration", "10"],
      ...["--duration", String(SECONDS), "--session", "s", "--data-dir", dataDir],
      ...["--preview-interval", String(interval), ...(c.flags ?? [])],
    ]),
    { stdio: ["ignore", "ignore", openSync(path.join(work, `${tag}.log`), "w")] },
  );
  await sleep(1500);
  const previews: Side["previews"] = [];
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { protocolVersion: 4 });
  client.on("message", (_t, payload) => {
    const meta = readPreviewMeta(payload) as { source: string } | null;
    if (meta) previews.push({ bytes: payload.length, source: meta.source });
  });
  await client.subscribeAsync("labx/+/preview");
  return { node, dataDir, previews, close: () => client.endAsync() };
}

function recorded(side: Side): { frames: number; fps: number } {
  const batches = readManifest(path.join(side.dataDir, "s", "manifest.jsonl"));
  const frames = batches.reduce((s, b) => s + b.frames, 0);
  return { frames, fps: frames / batches.reduce((s, b) => s + b.duration_s, 0) };
}

/** Both nodes at once on one camera, measured over the same window. */
async function sideBySide(c: Case) {
  const ports: [number, number] = [await freePort(), await freePort()];
  // The node without preview takes the first port, the one with it the second.
  const cam = sharedCamera({ size: c.size, encode: c.encode, format: c.format, ports });
  await sleep(1000);
  const off = await startSide(c, ports[0], 0, `${c.size}-off`);
  const on = await startSide(c, ports[1], 5, `${c.size}-on`);
  await sleep(WARMUP * 1000);
  const c0 = [cpuOf(off.node.pid!), cpuOf(on.node.pid!)];
  const t0 = performance.now();
  await sleep((SECONDS - WARMUP - 5) * 1000);
  const minutes = (performance.now() - t0) / 60_000;
  const cpu = [(cpuOf(off.node.pid!) - c0[0]!) / minutes, (cpuOf(on.node.pid!) - c0[1]!) / minutes];
  for (const s of [off, on]) if (s.node.exitCode === null) await new Promise((r) => s.node.once("exit", r));
  await Promise.all([off.close(), on.close()]);
  cam.kill("SIGTERM");
  console.log(
    `${c.name}: ${cpu[0]!.toFixed(3)} / ${cpu[1]!.toFixed(3)} CPU s/min, ${on.previews.length} previews`,
  );
  return { cpuOff: cpu[0]!, cpuOn: cpu[1]!, off: recorded(off), on: recorded(on), previews: on.previews };
}

const rows: string[] = [];
for (const c of CASES) {
  const r = await sideBySide(c);
  const kb = r.previews.length ? r.previews.reduce((s, p) => s + p.bytes, 0) / r.previews.length / 1024 : 0;
  const sources = [...new Set(r.previews.map((p) => p.source))].join(", ") || "none";
  rows.push(
    `| ${c.name} | ${r.cpuOff.toFixed(3)} | ${r.cpuOn.toFixed(3)} | **${((r.cpuOn / r.cpuOff - 1) * 100).toFixed(1)} %** | ${r.previews.length} (${sources}, ${kb.toFixed(0)} KiB) | ${r.off.frames} / ${r.on.frames} (${r.off.fps.toFixed(2)} / ${r.on.fps.toFixed(2)} fps) |`,
  );
}
if (!process.argv.includes("--keep")) rmSync(work, { recursive: true, force: true });

writeSection(
  "preview",
  `## Camera preview — bench/preview.ts

One live camera (ffmpeg, real time, 30 fps) served over TCP to two \`labx node\`s at once, both recording
the same frames for ${SECONDS} s in 10 s batches: one with \`--preview-interval 0\`, one with the default 5 s.
CPU of each node, its recording ffmpeg and its preview decoder (children, reaped ones included), over the
same window from ${WARMUP} s on, in CPU seconds per minute.

| camera (how the preview is made) | no preview | preview every 5 s | preview's share | previews (source, mean size) | frames off / on |
|---|---|---|---|---|---|
${rows.join("\n")}

A JPEG camera's preview is one of its own frames, kept by the recorder's ffmpeg (a tee slave, no decoding);
a frame over \`--preview-max-kb\` is decoded at a quarter of its size (\`-lowres\`) and a keyframe of another
codec decoded in full, by one ffmpeg kept running for the session (node/preview/preview-decoder.ts), which
decodes each preview's frame about four times (copies that push it through ffmpeg's pipeline). Equal frame counts on both sides: the preview
cost no frame (the camera's first seconds arrive in a burst while its tee waits for the second node, hence
the mean above 30 fps).

Command: \`npx tsx bench/preview.ts --seconds ${SECONDS}\`.`,
);
