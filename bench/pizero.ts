// A Pi Zero 2 budget (issue 19's third goal): `labx node` and its ffmpeg confined to one core at a
// quarter of this machine's speed and 256 MiB, recording a 1080p MJPEG camera by stream copy for 10
// minutes in 10 s batches; frames lost and per-frame time error against the camera's send log
// (the fake MJPEG camera of the tests, its own process, outside the confinement).
// Confinement: taskset -c 1 plus a cgroup — v1 (this machine): a child of the cpu hierarchy with
// cpu.cfs_quota_us 25000 of cpu.cfs_period_us 100000 and a child of memory with memory.limit_in_bytes;
// v2: cpu.max "25000 100000" and memory.max. Needs root.
// Usage: npm run bench (or: tsx bench/pizero.ts [--seconds 600] [--size 1920x1080] [--batch 10]).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCamera } from "./camera-kinds.js";
import { writeSection } from "./doc.js";
import { runKind } from "./kind-run.js";
import { numArg, quantiles } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = numArg("seconds", 600);
const BATCH = numArg("batch", 10);
const SIZE = (() => {
  const i = process.argv.indexOf("--size");
  return i > 0 ? process.argv[i + 1]! : "1920x1080";
})();
const QUOTA_US = 25_000;
const PERIOD_US = 100_000;
const MEMORY = 256 * 1024 * 1024;
const NAME = `labx-pizero-${process.pid}`;

interface Cgroup {
  version: 1 | 2;
  enter(pid: number): void;
  /** CPU seconds used, periods throttled of periods run, peak memory (bytes; v1 only, else null). */
  read(): { cpuS: number; throttled: number; periods: number; peakBytes: number | null };
  remove(): void;
}

/** A cgroup emptied (what is left in it, an ffmpeg still exiting, is killed) and removed. */
function removeGroup(dir: string): void {
  for (let i = 0; i < 50; i++) {
    const pids = readFileSync(`${dir}/cgroup.procs`, "utf8").trim().split("\n").filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      execFileSync("sleep", ["0.1"]);
    }
  }
  rmdirSync(dir);
}

function cgroup(): Cgroup {
  const w = (file: string, value: string): void => writeFileSync(file, value);
  const kv = (file: string): Record<string, number> =>
    Object.fromEntries(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([k, v]) => [k!, Number(v)]),
    );
  if (existsSync("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
    const cpu = `/sys/fs/cgroup/cpu/${NAME}`;
    const mem = `/sys/fs/cgroup/memory/${NAME}`;
    const acct = existsSync("/sys/fs/cgroup/cpu/cpuacct.usage") ? cpu : `/sys/fs/cgroup/cpuacct/${NAME}`;
    for (const d of new Set([cpu, mem, acct])) mkdirSync(d);
    w(`${cpu}/cpu.cfs_period_us`, String(PERIOD_US));
    w(`${cpu}/cpu.cfs_quota_us`, String(QUOTA_US));
    w(`${mem}/memory.limit_in_bytes`, String(MEMORY));
    return {
      version: 1,
      enter: (pid) => {
        for (const d of new Set([cpu, mem, acct])) w(`${d}/cgroup.procs`, String(pid));
      },
      read: () => {
        const stat = kv(`${cpu}/cpu.stat`);
        return {
          cpuS: Number(readFileSync(`${acct}/cpuacct.usage`, "utf8")) / 1e9,
          throttled: stat.nr_throttled ?? 0,
          periods: stat.nr_periods ?? 0,
          peakBytes: Number(readFileSync(`${mem}/memory.max_usage_in_bytes`, "utf8")),
        };
      },
      remove: () => {
        for (const d of new Set([cpu, mem, acct])) removeGroup(d);
      },
    };
  }
  const dir = `/sys/fs/cgroup/${NAME}`;
  mkdirSync(dir);
  w(`${dir}/cpu.max`, `${QUOTA_US} ${PERIOD_US}`);
  w(`${dir}/memory.max`, String(MEMORY));
  return {
    version: 2,
    enter: (pid) => w(`${dir}/cgroup.procs`, String(pid)),
    read: () => {
      const stat = kv(`${dir}/cpu.stat`);
      const peak = existsSync(`${dir}/memory.peak`)
        ? Number(readFileSync(`${dir}/memory.peak`, "utf8"))
        : null;
      return {
        cpuS: (stat.usage_usec ?? 0) / 1e6,
        throttled: stat.nr_throttled ?? 0,
        periods: stat.nr_periods ?? 0,
        peakBytes: peak,
      };
    },
    remove: () => removeGroup(dir),
  };
}

const work = mkdtempSync(path.join(tmpdir(), "labx-bench-pizero-"));
console.log(`pizero: ${SIZE} MJPEG copy, ${SECONDS} s in ${BATCH} s batches, 1 core at 25 %, 256 MiB…`);
const group = cgroup();
const camera = await startCamera("tcp-mjpeg", root, work, SECONDS, SIZE);
let r: Awaited<ReturnType<typeof runKind>>;
let used: ReturnType<Cgroup["read"]>;
try {
  r = await runKind(root, camera, path.join(work, "data"), SECONDS, 0, {
    videoSize: SIZE,
    batchDuration: BATCH,
    launcher: ["taskset", "-c", "1"],
    confine: (pid) => group.enter(pid),
  });
  used = group.read();
} finally {
  await camera.stop();
  group.remove();
}
const f = quantiles(r.frameErrors);
const s = quantiles(r.startErrors);
const lostOk = r.lost === 0;
const errOk = f.p99 <= 1000;
const text = `## A Pi Zero 2 budget — bench/pizero.ts

\`labx node\` (embedded broker, preview on, clock reading off: no chronyd inside the budget) and its
ffmpeg run under \`taskset -c 1\` in a cgroup (v${group.version}) limited to ${QUOTA_US / 1000} ms of CPU per
${PERIOD_US / 1000} ms period — one core at a quarter of this machine's speed, about a Pi Zero 2's — and
${MEMORY / 1048576} MiB of memory. The camera is the tests' fake MJPEG camera (test/helpers/fake-camera.ts,
its own process, outside the budget) sending tagged ${SIZE} JPEGs at 30 fps over TCP and logging when
each left; the node records it by stream copy for ${SECONDS} s in ${BATCH} s batches, and every recorded frame
is matched to its send time by the number it carries.

| figure | value | goal |
|---|---|---|
| frames recorded / lost | ${r.recorded} / ${r.lost} | 0 lost — **${lostOk ? "met" : "missed"}** |
| per-frame time error µs p50 / p99 / max | ${f.p50.toFixed(0)} / ${f.p99.toFixed(0)} / ${f.max.toFixed(0)} | p99 ≤ 1000 — **${errOk ? "met" : "missed"}** |
| mean signed error µs (recorded − sent) | ${r.meanSigned.toFixed(0)} | — |
| batch-start error µs p50 / max | ${s.p50.toFixed(0)} / ${s.max.toFixed(0)} | — |
| batches (misplaced) | ${r.batches} (${r.misplaced}) | — |
| CPU used by node + ffmpeg | ${used.cpuS.toFixed(1)} s (${((used.cpuS / SECONDS) * 60).toFixed(2)} CPU s/min, ${((used.cpuS / SECONDS / (QUOTA_US / PERIOD_US)) * 100).toFixed(1)} % of the budget) | — |
| periods throttled | ${used.throttled} of ${used.periods} | — |
| peak memory (cgroup, page cache included) | ${used.peakBytes === null ? "n/a" : `${(used.peakBytes / 1048576).toFixed(1)} MiB`} | ≤ ${MEMORY / 1048576} MiB |

Command: \`npx tsx bench/pizero.ts --seconds ${SECONDS} --size ${SIZE} --batch ${BATCH}\`.`;
console.log(text);
writeSection("pizero", text);
process.exit(0);
