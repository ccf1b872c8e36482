// Start-up and idle cost of `labx node` (issue 19's fifth goal: online ≤ 500 ms, idle ≤ 0.05 CPU s/min):
// a node process started against a broker that is already up (the labx broker as its own process)
// until its `online` arrives, its CPU for that, then its CPU and RSS over an idle minute (clock monitor
// reading a real chronyd on loopback when one is given by --chrony-port, else --disable-sync).
// Usage: npm run bench (or: tsx bench/startup.ts [--runs 5] [--idle 60]).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { writeSection } from "./doc.js";
import { freePort, numArg, proc, quantiles, sleep } from "./util.js";
import { nodeV8Flags } from "../cli/node-flags.js";
import { startChronyClient, startChronyServer } from "../test/helpers/chrony.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = numArg("runs", 5);
const IDLE_S = numArg("idle", 120);

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
  // The same starts without the V8 flags, alternating with those above: what the flags cost at start.
  const plainMs: number[] = [];
  const plainCpu: number[] = [];
  const idle: { firstPerMin: number; cpuPerMin: number; rssMb: number; peakMb: number }[] = [];
  // The clock monitor reads a real chronyd on loopback, as on a Pi.
  const chronyServer = await startChronyServer();
  const chronyClient = await startChronyClient(chronyServer.port);
  try {
    for (let j = 0; j < 2 * RUNS; j++) {
      const plain = j % 2 === 0;
      const i = j >> 1;
      const id = `START${j}`;
      const up = new Promise<void>((r) => online.set(id, r));
      const t0 = performance.now();
      const node = spawn(
        process.execPath,
        [
          ...(plain ? [] : nodeV8Flags(process.versions.node)),
          `${root}/dist/cli/labx.js`,
          "node",
          "--broker-url",
          `mqtt://127.0.0.1:${port}`,
        ]
          .concat(["--sbc-id", id, "--data-dir", mkdtempSync(path.join(tmpdir(), "labx-bench-start-"))])
          .concat(["--chrony-host", "127.0.0.1", "--chrony-port", String(chronyClient.cmdPort)])
          .concat(["--no-ha-discovery", "--log-level", "warn"]),
        { stdio: "ignore" },
      );
      await up;
      (plain ? plainMs : startMs).push(performance.now() - t0);
      const a = proc(node.pid!)!;
      (plain ? plainCpu : startCpu).push(a.cpu);
      // The last run also sits idle, long enough for its CPU to be read at /proc's 10 ms ticks: its
      // first minute (V8 shrinks the heap it grew at start-up once, some seconds in), then IDLE_S more.
      if (i === RUNS - 1 && !plain) {
        await sleep(60_000);
        const b = proc(node.pid!)!;
        await sleep(IDLE_S * 1000);
        const c = proc(node.pid!)!;
        const peak = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${node.pid}/status`, "utf8"));
        idle.push({
          firstPerMin: b.cpu - a.cpu,
          cpuPerMin: ((c.cpu - b.cpu) * 60) / IDLE_S,
          rssMb: c.rssKb / 1024,
          peakMb: Number(peak?.[1] ?? 0) / 1024,
        });
      }
      await kill(node);
    }
  } finally {
    await client.endAsync();
    await kill(broker);
    await chronyClient.stop();
    await chronyServer.stop();
  }
  const s = quantiles(startMs);
  const cpu = quantiles(startCpu);
  const table = [
    "| figure | p50 | max | goal |",
    "|---|---|---|---|",
    `| process start → \`online\` (ms, ${RUNS} starts) | ${s.p50.toFixed(0)} | ${s.max.toFixed(0)} | ≤ 500 — **${s.p50 <= 500 ? "met" : "missed"}** |`,
    `| CPU to get there (s) | ${cpu.p50.toFixed(2)} | ${cpu.max.toFixed(2)} | — |`,
    `| the same without the V8 flags: start → \`online\` (ms) / CPU (s) | ${quantiles(plainMs).p50.toFixed(0)} / ${quantiles(plainCpu).p50.toFixed(2)} | ${quantiles(plainMs).max.toFixed(0)} / ${quantiles(plainCpu).max.toFixed(2)} | — |`,
    `| CPU in the first idle minute after \`online\` (s) | ${idle[0]!.firstPerMin.toFixed(3)} | | — |`,
    `| idle CPU, steady (CPU s/min, the ${IDLE_S} s after that minute) | ${idle[0]!.cpuPerMin.toFixed(3)} | | ≤ 0.05 — **${idle[0]!.cpuPerMin <= 0.05 ? "met" : "missed"}** |`,
    `| idle RSS / peak RSS (MiB) | ${idle[0]!.rssMb.toFixed(1)} / ${idle[0]!.peakMb.toFixed(1)} | | (≤ 64 at 1080p while recording: live-cost) |`,
  ].join("\n");
  console.log(table);
  writeSection(
    "startup",
    `## Start-up and idle — bench/startup.ts

\`labx node\` (with the V8 flags of cli/node-flags.ts, as labx's launchers start it) started ${RUNS}
times against the labx broker already running as its own process (no camera opened; the clock monitor
reading a real chronyd on loopback every 10 s over chrony's command protocol), timed from the
process's spawn to its retained \`online\`; then the last one left idle: its first minute, then
${IDLE_S} s more (steady state). What a recording node never uses is loaded only when asked for (the
AWS SDK, aedes, the dashboard, the fleet monitor), and each schema validator is compiled at its first
use. Command: \`tsx bench/startup.ts --runs ${RUNS} --idle ${IDLE_S}\` (after \`npm run build\`).

${table}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
