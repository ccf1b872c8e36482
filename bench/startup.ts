// Start-up and idle cost of `labx node` (issue 19's fifth goal: online ≤ 500 ms, idle ≤ 0.05 CPU s/min):
// a node process started against a broker that is already up (the labx broker as its own process)
// until its `online` arrives, its CPU for that, then its CPU and RSS over an idle minute (clock monitor
// reading a real chronyd on loopback when one is given by --chrony-port, else --disable-sync).
// Usage: npm run bench (or: tsx bench/startup.ts [--runs 5] [--idle 60]).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { writeSection } from "./doc.js";
import { freePort, numArg, proc, quantiles, sleep } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = numArg("runs", 5);
const IDLE_S = numArg("idle", 60);

async function main(): Promise<void> {
  const port = await freePort();
  const broker = spawn(
    process.execPath,
    [`${root}/dist/cli/labx.js`, "broker", "--broker-port", String(port)],
    {
      stdio: "ignore",
    },
  );
  const kill = (p: ChildProcess): Promise<unknown> =>
    new Promise((r) => {
      p.once("exit", r);
      p.kill("SIGTERM");
    });
  await sleep(1500);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  await client.subscribeAsync("labx/+/availability");
  const online = new Map<string, () => void>();
  client.on("message", (topic, payload) => {
    if (payload.toString() === "online") online.get(topic.split("/")[1]!)?.();
  });
  const startMs: number[] = [];
  const startCpu: number[] = [];
  const idle: { cpuPerMin: number; rssMb: number }[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const id = `START${i}`;
      const up = new Promise<void>((r) => online.set(id, r));
      const t0 = performance.now();
      const node = spawn(
        process.execPath,
        [`${root}/dist/cli/labx.js`, "node", "--broker-url", `mqtt://127.0.0.1:${port}`, "--sbc-id", id]
          .concat(["--data-dir", mkdtempSync(path.join(tmpdir(), "labx-bench-start-")), "--disable-sync"])
          .concat(["--no-ha-discovery", "--log-level", "warn"]),
        { stdio: "ignore" },
      );
      await up;
      startMs.push(performance.now() - t0);
      const a = proc(node.pid!)!;
      startCpu.push(a.cpu);
      // The last run also sits idle, long enough for its CPU to be read at /proc's 10 ms ticks.
      if (i === RUNS - 1) {
        await sleep(5000);
        const b = proc(node.pid!)!;
        await sleep(IDLE_S * 1000);
        const c = proc(node.pid!)!;
        idle.push({ cpuPerMin: ((c.cpu - b.cpu) * 60) / IDLE_S, rssMb: c.rssKb / 1024 });
      }
      await kill(node);
    }
  } finally {
    await client.endAsync();
    await kill(broker);
  }
  const s = quantiles(startMs);
  const cpu = quantiles(startCpu);
  const table = [
    "| figure | p50 | max | goal |",
    "|---|---|---|---|",
    `| process start → \`online\` (ms, ${RUNS} starts) | ${s.p50.toFixed(0)} | ${s.max.toFixed(0)} | ≤ 500 |`,
    `| CPU to get there (s) | ${cpu.p50.toFixed(2)} | ${cpu.max.toFixed(2)} | — |`,
    `| idle CPU (CPU s/min, over ${IDLE_S} s) | ${idle[0]!.cpuPerMin.toFixed(3)} | | ≤ 0.05 |`,
    `| idle RSS (MiB) | ${idle[0]!.rssMb.toFixed(1)} | | (≤ 64 at 1080p while recording) |`,
  ].join("\n");
  console.log(table);
  writeSection(
    "startup",
    `## Start-up and idle — bench/startup.ts

\`labx node\` started ${RUNS} times against the labx broker already running as its own process (no
camera opened, \`--disable-sync\`), timed from the process's spawn to its retained \`online\`; then the
last one left idle for ${IDLE_S} s. What a recording node never uses is loaded only when asked for (the
AWS SDK, aedes, the dashboard, the fleet monitor), and each schema validator is compiled at its first
use. Command: \`tsx bench/startup.ts --runs ${RUNS} --idle ${IDLE_S}\` (after \`npm run build\`).

${table}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
