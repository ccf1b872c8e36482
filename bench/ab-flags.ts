// What the V8 flags of cli/node-flags.ts change in exactness: chosen camera kinds of the exactness
// bench, each run twice in alternation, with the flags and without (LABX_BENCH_PLAIN_NODE).
// Usage: tsx bench/ab-flags.ts [--seconds 60] [--kinds tcp-mjpeg,rtsp-mjpeg] (after npm run build).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCamera, type KindName } from "./camera-kinds.js";
import { runKind } from "./kind-run.js";
import { numArg, quantiles } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seconds = numArg("seconds", 60);
const i = process.argv.indexOf("--kinds");
const kinds = (i > 0 ? process.argv[i + 1]! : "tcp-mjpeg,rtsp-mjpeg").split(",") as KindName[];
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-ab-"));
console.log("| camera | V8 flags | per-frame error µs p50 / p99 / max | start reply ms p50 | lost |");
console.log("|---|---|---|---|---|");
for (const kind of kinds)
  for (const plain of [false, true]) {
    if (plain) process.env.LABX_BENCH_PLAIN_NODE = "1";
    else delete process.env.LABX_BENCH_PLAIN_NODE;
    const camera = await startCamera(kind, root, work, seconds);
    try {
      const r = await runKind(root, camera, path.join(work, `${kind}-${plain}`), seconds, 5);
      const f = quantiles(r.frameErrors);
      const reply = quantiles(r.replyMs);
      console.log(
        `| ${kind} | ${plain ? "none" : "cli/node-flags.ts"} | ${f.p50.toFixed(0)} / ${f.p99.toFixed(0)} / ${f.max.toFixed(0)} | ${reply.p50.toFixed(0)} | ${r.lost} |`,
      );
    } finally {
      await camera.stop();
    }
  }
process.exit(0);
