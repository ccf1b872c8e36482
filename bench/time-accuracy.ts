// Exactness of labx times, side by side with ground truth: (1) batch-start and per-frame error against
// the fake camera's send log; (2) first-frame offset and batch-start spread of N nodes given one `at`.
// Usage: npm run bench (or: tsx bench/time-accuracy.ts [--seconds 120] [--nodes 10]).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { readManifest } from "../node/store/manifest.js";
import type { BatchReady } from "../contract/generated/payloads.js";
import { frameNumbers } from "../test/helpers/fake-camera.js";
import { writeSection } from "./doc.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name: string, dflt: number) =>
  Number(process.argv[process.argv.indexOf(`--${name}`) + 1] || dflt) || dflt;
const seconds = arg("seconds", 120);
const nodeCount = arg("nodes", 10);
const cli = path.join(root, "dist/cli/labx.js");
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-time-"));

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
const exited = (c: ChildProcess) => new Promise((r) => c.on("exit", r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isoUs = (iso: string) =>
  Math.floor(Date.parse(iso) / 1000) * 1e6 + Number(/\.(\d+)Z$/.exec(iso)![1]!.padEnd(6, "0"));
function quantiles(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = xs.map(Math.abs).sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: s.at(-1)!, n: s.length };
}
const fmt = (q: ReturnType<typeof quantiles>) => `${q.p50} | ${q.p99} | ${q.max} | ${q.n}`;

// (1) Fake camera ground truth.
console.log(`(1) ${seconds} s from the fake camera (raw MJPEG over TCP, 30 fps), 1 s batches…`);
const camPort = await freePort();
const log = path.join(work, "sent.csv");
const camera = spawn(
  process.execPath,
  ["--import", "tsx", path.join(root, "test/helpers/fake-camera.ts"), String(camPort), "30", log],
  { cwd: root, stdio: "ignore" },
);
await sleep(1500);
const node = spawn(
  process.execPath,
  [
    cli,
    "node",
    "--embedded-broker",
    "--broker-host",
    "127.0.0.1",
    "--broker-port",
    String(await freePort()),
    "--camera",
    `tcp://127.0.0.1:${camPort}`,
    "--stream-format",
    "mjpeg",
    "--duration",
    String(seconds),
    "--batch-duration",
    "1",
    "--disable-sync",
    "--session",
    "gt",
    "--data-dir",
    path.join(work, "gt"),
    "--log-level",
    "warn",
  ],
  { stdio: "ignore" },
);
await exited(node);
camera.kill("SIGTERM");
const sent = new Map(
  readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(",").map(Number) as [number, number]),
);
const startErrors: number[] = [];
const frameErrors: number[] = [];
for (const b of readManifest(path.join(work, "gt", "gt", "manifest.jsonl"))) {
  const bytes = execFileSync(
    "ffmpeg",
    ["-v", "error", "-i", path.join(work, "gt", b.file), "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-"],
    { maxBuffer: 256 << 20 },
  );
  const numbers = frameNumbers(bytes);
  const rows = readFileSync(path.join(work, "gt", b.frames_file), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  rows.forEach((r, i) =>
    frameErrors.push(Math.round(Number(r.split(",")[3]) * 1e6) - sent.get(numbers[i]!)!),
  );
  startErrors.push(isoUs(b.start) - sent.get(numbers[0]!)!);
}
const startQ = quantiles(startErrors);
const frameQ = quantiles(frameErrors);
const signed = frameErrors.reduce((a, b) => a + b, 0) / frameErrors.length;
console.log(
  `batch start error µs p50/p99/max/n: ${fmt(startQ)}; per frame: ${fmt(frameQ)}; mean signed ${signed.toFixed(0)} µs`,
);

// (2) N nodes given one `at`.
console.log(`(2) ${nodeCount} nodes (synthetic camera 320x240@30) given one start with at…`);
const brokerPort = await freePort();
const broker = spawn(
  process.execPath,
  [cli, "broker", "--broker-host", "127.0.0.1", "--broker-port", String(brokerPort), "--log-level", "warn"],
  { stdio: "ignore" },
);
await sleep(1500);
const url = `mqtt://127.0.0.1:${brokerPort}`;
const nodes = Array.from({ length: nodeCount }, (_, i) =>
  spawn(
    process.execPath,
    [
      cli,
      "node",
      "--broker-url",
      url,
      "--sbc-id",
      `N${i}`,
      "--video-size",
      "320x240",
      "--disable-sync",
      "--data-dir",
      path.join(work, `n${i}`),
      "--log-level",
      "warn",
    ],
    { stdio: "ignore" },
  ),
);
const client = await mqtt.connectAsync(url);
const batches = new Map<string, BatchReady[]>();
client.on("message", (topic, payload) => {
  const n = topic.split("/")[1]!;
  batches.set(n, [...(batches.get(n) ?? []), JSON.parse(payload.toString()) as BatchReady]);
});
await client.subscribeAsync("labx/+/batch", { qos: 1 });
await sleep(4000);
const atMs = Math.ceil(Date.now() / 1000) * 1000 + 4000;
const BATCHES = 5;
await client.publishAsync(
  "labx/all/cmd",
  JSON.stringify({
    cmd: "start",
    session: "at",
    at: new Date(atMs).toISOString(),
    duration: BATCHES,
    batch_duration: 1,
  }),
  { qos: 1 },
);
const deadline = Date.now() + 30_000;
while ([...batches.values()].filter((b) => b.length >= BATCHES).length < nodeCount && Date.now() < deadline)
  await sleep(200);
const firstOffsets = [...batches.values()].map((b) => isoUs(b[0]!.start) - atMs * 1000);
const spreads: number[] = [];
for (let k = 0; k < BATCHES; k++) {
  const starts = [...batches.values()]
    .map((b) => b[k])
    .filter(Boolean)
    .map((b) => isoUs(b!.start));
  spreads.push(Math.max(...starts) - Math.min(...starts));
}
const answered = batches.size;
await client.endAsync();
for (const n of nodes) n.kill("SIGTERM");
await Promise.all(nodes.map(exited));
broker.kill("SIGTERM");
await exited(broker);
rmSync(work, { recursive: true, force: true });
const firstQ = quantiles(firstOffsets);
console.log(
  `${answered}/${nodeCount} nodes; first frame after at µs p50/p99/max: ${fmt(firstQ)}; batch-start spread across nodes per batch µs: ${spreads.join(", ")}`,
);

writeSection(
  "time-accuracy",
  `## Exactness of times — bench/time-accuracy.ts

**Against ground truth.** A fake camera (test/helpers/fake-camera.ts, its own process) serves raw MJPEG
over TCP at 30 fps, stamps each JPEG with its frame number (a COM segment) and logs the wall-clock time
it wrote each frame. A node records it for ${seconds} s in 1 s batches (\`--stream-format mjpeg\`); the
frame numbers are read back out of the batch files, and each recorded time is compared with the log.
Errors are |recorded − sent| in µs (loopback TCP plus ffmpeg's read loop; the recorded time is when
ffmpeg received the frame's first bytes).

| error (µs) | p50 | p99 | max | samples |
|---|---|---|---|---|
| batch start | ${fmt(startQ)} |
| every frame (sidecar) | ${fmt(frameQ)} |

Mean signed error per frame: ${signed.toFixed(0)} µs (positive: recorded after sent).

**One \`at\`, ${nodeCount} nodes.** ${nodeCount} \`labx node\` processes on this machine (synthetic camera 320×240 @ 30 fps,
each its own ffmpeg, all sharing the embedded broker) receive one \`start\` to \`all\` with \`at\` 4 s ahead,
${BATCHES} batches of 1 s. ${answered} of ${nodeCount} nodes reported.

| first frame after \`at\` (µs) | p50 | p99 | max | nodes |
|---|---|---|---|---|
| | ${fmt(firstQ)} |

Spread of batch k's start across the nodes (max − min, µs), k = 0…${BATCHES - 1}: ${spreads.join(", ")}.
By construction each start is the first frame at or after \`at + k s\` on its node, so the spread is bounded
by one frame period (33 333 µs) plus the nodes' clock offsets (one machine here: zero).

Command: \`npm run bench\` (this part: \`npx tsx bench/time-accuracy.ts --seconds ${seconds} --nodes ${nodeCount}\`).`,
);
