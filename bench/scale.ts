// Scale, side by side: N simulated nodes (bench/sim-nodes.ts: lightweight clients speaking the
// contract, not N ffmpegs) on the embedded aedes broker (`labx broker`, its own process) and on
// mosquitto. Measures the time for a controller's `status` to `all` to collect N replies, and the
// batch-ready messages per second the broker carries from N publishers to one subscriber.
// Usage: npm run bench (or: tsx bench/scale.ts [--nodes 200] [--rounds 30] [--burst 10]).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { createValidators } from "../contract/schemas.js";
import { writeSection } from "./doc.js";
import { freePort, numArg, quantiles, sleep, waitPort } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = numArg;
const N = arg("nodes", 200);
const ROUNDS = arg("rounds", 30);
const BURST_S = arg("burst", 10);
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-scale-"));
const validators = createValidators();

const stop = (c: ChildProcess) =>
  new Promise<void>((r) => {
    if (c.exitCode !== null) return r();
    c.once("exit", () => r());
    c.kill("SIGTERM");
  });

interface Result {
  broker: string;
  statusMs: ReturnType<typeof quantiles>;
  complete: number;
  msgsPerS: number;
  sent: number;
  received: number;
}

async function measure(name: string, startBroker: (port: number) => ChildProcess): Promise<Result> {
  const port = await freePort();
  const broker = startBroker(port);
  await waitPort(port);
  const url = `mqtt://127.0.0.1:${port}`;
  const sim = spawn(
    process.execPath,
    ["--import", "tsx", path.join(root, "bench/sim-nodes.ts"), url, String(N)],
    {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: sim.stdout! })[Symbol.asyncIterator]();
  const next = async () =>
    JSON.parse(((await lines.next()).value as string) ?? "{}") as Record<string, number>;
  const ready = await next();
  if (ready.ready !== N) throw new Error(`only ${ready.ready} simulated nodes connected`);

  const ctl = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `bench-ctl-${name}` });
  const replies = new Map<string, Set<string>>();
  let waiting: { id: string; resolve: () => void } | null = null;
  let batches = 0;
  let lastBatchAt = 0;
  let invalid = 0;
  ctl.on("message", (topic, payload) => {
    if (topic.endsWith("/batch")) {
      batches += 1;
      lastBatchAt = performance.now();
      return;
    }
    const r = JSON.parse(payload.toString()) as { id: string; node: string };
    if (!validators.reply(r)) invalid += 1;
    const set = replies.get(r.id) ?? new Set();
    set.add(r.node);
    replies.set(r.id, set);
    if (waiting?.id === r.id && set.size === N) waiting.resolve();
  });
  await ctl.subscribeAsync(["labx/+/reply", "labx/+/batch"], { qos: 1 });

  const times: number[] = [];
  let complete = 0;
  for (let i = 0; i < ROUNDS + 3; i++) {
    const id = `bench-${name}-${i}`;
    const t0 = performance.now();
    const done = new Promise<boolean>((resolve) => {
      waiting = { id, resolve: () => resolve(true) };
      setTimeout(() => resolve(false), 10_000);
    });
    await ctl.publishAsync("labx/all/cmd", JSON.stringify({ cmd: "status", id }), { qos: 1 });
    const ok = await done;
    if (i >= 3) {
      // the first three are warm-up
      if (ok) complete += 1;
      times.push(performance.now() - t0);
    }
    await sleep(100);
  }
  if (invalid) throw new Error(`${invalid} replies failed the reply schema`);

  const t0 = performance.now();
  sim.stdin!.write(JSON.stringify({ burst: BURST_S }) + "\n");
  const { sent } = await next();
  for (let i = 0; i < 100 && batches < sent!; i++) await sleep(100);
  const msgsPerS = batches / ((lastBatchAt - t0) / 1000);
  sim.stdin!.write(JSON.stringify({ quit: true }) + "\n");
  await new Promise((r) => sim.once("exit", r));
  await ctl.endAsync();
  await stop(broker);
  return { broker: name, statusMs: quantiles(times), complete, msgsPerS, sent: sent!, received: batches };
}

const mosquittoConf = path.join(work, "mosquitto.conf");
const results: Result[] = [];
console.log(`scale: ${N} simulated nodes, ${ROUNDS} status rounds, ${BURST_S} s burst, per broker…`);
results.push(
  await measure("aedes (labx broker)", (port) =>
    spawn(
      process.execPath,
      [path.join(root, "dist/cli/labx.js"), "broker", "--broker-port", String(port), "--log-level", "warn"],
      {
        stdio: "inherit",
      },
    ),
  ),
);
results.push(
  await measure("mosquitto 2.0", (port) => {
    // No queue or in-flight limits: the subscriber is on loopback, and a drop would read as throughput.
    writeFileSync(
      mosquittoConf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n`,
    );
    return spawn("mosquitto", ["-c", mosquittoConf], { stdio: "ignore" });
  }),
);

const ms = (x: number) => x.toFixed(1);
const rows = results.map(
  (r) =>
    `| ${r.broker} | ${ms(r.statusMs.p50)} | ${ms(r.statusMs.p99)} | ${ms(r.statusMs.max)} | ${r.complete}/${ROUNDS} | ${Math.round(r.msgsPerS)} | ${r.received}/${r.sent} |`,
);
const [a, m] = results as [Result, Result];
const text = `## Scale: ${N} simulated nodes on one broker — bench/scale.ts

${N} lightweight clients (bench/sim-nodes.ts, one process) speak the node side of the contract: retained
\`online\` and state, an offline will, and a schema-valid reply to every command; no ffmpeg. A controller
(its own client, as \`labx status\` would be) sends \`status\` to \`labx/all/cmd\` ${ROUNDS} times (after 3
warm-up rounds) and times the publish to the ${N}th reply. Then every simulated node publishes QoS 1
batch-ready events back to back for ${BURST_S} s (each waiting for its PUBACK, as a node's outbox does) and
the controller counts what it receives; messages per second = received ÷ time to the last one. The
embedded broker runs as \`labx broker\` in its own process; mosquitto without queue limits.

| broker | all-status p50 ms | p99 ms | max ms | rounds with all ${N} replies | batch msgs/s to 1 subscriber | received/sent |
|---|---|---|---|---|---|---|
${rows.join("\n")}

- aedes ÷ mosquitto: all-status p99 ${(a.statusMs.p99 / m.statusMs.p99).toFixed(2)}×, throughput ${(a.msgsPerS / m.msgsPerS).toFixed(2)}×.
- Issue 19's goal, aedes ≥ 0.8× mosquitto's throughput and ≤ 1.2× its p99: throughput ${a.msgsPerS / m.msgsPerS >= 0.8 ? "met" : "missed"}, p99 ${a.statusMs.p99 / m.statusMs.p99 <= 1.2 ? "met" : "missed"}.
- Floor from issue 7: ${N} replies in under 1 s p99 — ${results.map((r) => `${r.broker}: ${r.statusMs.p99 < 1000 ? "met" : "missed"}`).join(", ")}.

Command: \`npx tsx bench/scale.ts --nodes ${N} --rounds ${ROUNDS} --burst ${BURST_S}\`.`;
console.log(text);
writeSection(N === 200 ? "scale" : `scale-${N}`, text);
process.exit(0);
