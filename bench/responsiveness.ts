// Responsiveness: command → reply and command → first recorded frame, over repeated start/stop
// cycles of one real node (embedded broker, synthetic camera, its own process).
// Usage: npm run bench (or: tsx bench/responsiveness.ts [--starts 50]).
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import type { NodeState, Reply } from "../contract/generated/payloads.js";
import { writeSection } from "./doc.js";
import { freePort, numArg, quantiles, sleep, labxNodeArgs } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = numArg;
const STARTS = arg("starts", 50);
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-resp-"));

const port = await freePort();
const node = spawn(
  process.execPath,
  labxNodeArgs(root, port, [
    "--sbc-id",
    "RESP",
    "--camera",
    "synthetic",
    "--batch-duration",
    "10",
    "--data-dir",
    work,
  ]),
  { stdio: "inherit" },
);
let client: mqtt.MqttClient | undefined;
for (let i = 0; i < 50 && !client; i++) {
  client = await mqtt
    .connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 })
    .catch(() => undefined);
  if (!client) await sleep(200);
}
if (!client) throw new Error("the node's broker never came up");
const c = client;
const replies = new Map<string, number>();
let state: NodeState | null = null;
c.on("message", (topic, payload) => {
  const v = JSON.parse(payload.toString()) as unknown;
  if (topic.endsWith("/reply")) replies.set((v as Reply).id ?? "", performance.now());
  else state = v as NodeState;
});
await c.subscribeAsync(["labx/RESP/reply", "labx/RESP/state"], { qos: 1 });
await sleep(1000);

const until = async (check: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(5);
  }
};
const replyMs: number[] = [];
const firstFrameMs: number[] = [];
const stopReplyMs: number[] = [];
console.log(`responsiveness: ${STARTS} start/stop cycles…`);
for (let i = 0; i < STARTS; i++) {
  const id = `s${i}`;
  const t0 = performance.now();
  const wall0 = Date.now();
  await c.publishAsync("labx/RESP/cmd", JSON.stringify({ cmd: "start", id, session: `r${i}` }), { qos: 1 });
  await until(() => replies.has(id));
  replyMs.push(replies.get(id)! - t0);
  await until(
    () =>
      (state as NodeState | null)?.session === `r${i}` && Boolean((state as NodeState | null)?.started_at),
  );
  firstFrameMs.push(Date.parse((state as unknown as NodeState).started_at!) - wall0);
  await sleep(300);
  const sid = `t${i}`;
  const t1 = performance.now();
  await c.publishAsync("labx/RESP/cmd", JSON.stringify({ cmd: "stop", id: sid }), { qos: 1 });
  await until(() => replies.has(sid));
  stopReplyMs.push(replies.get(sid)! - t1);
  await until(() => (state as NodeState | null)?.state === "idle");
}
await c.endAsync();
node.kill("SIGTERM");
await new Promise((r) => node.once("exit", r));

const row = (what: string, xs: number[]) => {
  const q = quantiles(xs);
  return `| ${what} | ${q.p50.toFixed(1)} | ${q.p99.toFixed(1)} | ${q.max.toFixed(1)} | ${q.n} |`;
};
const text = `## Responsiveness — bench/responsiveness.ts

One node (its own process, embedded broker, synthetic camera 640×480 @ 30 fps, clock reading off)
is started and stopped ${STARTS} times by a client on loopback. "Start → reply" is the time from the
client's publish to the reply's arrival; the node answers once ffmpeg has reported the input's start time and the
first frame (a start that gets no frame fails with CAMERA_UNAVAILABLE): the reply confirms recording.
"Start → first frame" is the session's \`started_at\` (the wall-clock time of its first frame) minus
the wall-clock time of the publish: ffmpeg's start-up plus the first frame.

| latency (ms) | p50 | p99 | max | samples |
|---|---|---|---|---|
${row("start → reply", replyMs)}
${row("start → first frame", firstFrameMs)}
${row("stop → reply (last batch finalized and announced)", stopReplyMs)}

Command: \`npx tsx bench/responsiveness.ts --starts ${STARTS}\`.`;
console.log(text);
writeSection("responsiveness", text);
process.exit(0);
