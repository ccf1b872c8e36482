// The README's experiment, run as written: its two ```sh blocks (marked experiment:nodes and
// experiment:run) in bash, `labx` being this checkout's CLI, against a real mosquitto given through
// LABX_BROKER_URL. Two synthetic cameras and the simulated IMU (a real Python process) start on one
// `at`; labx align indexes the session. Ground truth: `at` itself and each node's own frame times.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { SessionSummary } from "../../align/summary.js";
import { epochTextUs, isoUs } from "../../align/session-reader.js";
import { readManifest } from "../../node/data/manifest.js";
import { startChronyClient, startChronyServer, type Chronyd } from "../helpers/chrony.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { ROOT } from "../helpers/node.js";

const NODES = { CAM1: 30, CAM2: 30, IMU1: 100 } as const;

function readmeBlock(name: string): string {
  const text = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = new RegExp(`<!-- experiment:${name} -->\\n+\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(m, `README.md has the experiment:${name} block`);
  return m[1]!;
}

/** bash running `script` in `cwd`, `labx` being this checkout's CLI (through tsx). */
function bash(script: string, cwd: string, env: Record<string, string>, detached = false) {
  const loader = path.join(ROOT, "node_modules", "tsx", "dist", "loader.mjs");
  const labx = `labx() { "${process.execPath}" --import "${loader}" "${path.join(ROOT, "cli", "labx.ts")}" "$@"; }\n`;
  const child = spawn("bash", ["-c", `set -e\n${labx}${script}\nwait`], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe("the README's experiment", () => {
  it("two cameras and a simulated IMU start on one `at` and labx align indexes them", async (t) => {
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let nodes: ReturnType<typeof bash> | undefined;
    let server: Chronyd | undefined;
    let client: Chronyd | undefined;
    const dir = mkdtempSync(path.join(tmpdir(), "labx-experiment-"));
    try {
      broker = await startMosquitto();
      // The nodes' clock: a real chronyd on loopback, synchronized to a local server (never the host's clock).
      server = await startChronyServer();
      client = await startChronyClient(server.port);
      const env = {
        LABX_BROKER_URL: broker.url,
        LABX_LOG_LEVEL: "warn",
        LABX_CHRONY_HOST: "127.0.0.1",
        LABX_CHRONY_PORT: String(client.cmdPort),
      };
      // The README runs from the checkout: its example program is at docs/examples/.
      symlinkSync(path.join(ROOT, "docs"), path.join(dir, "docs"));
      rec = await MqttRecorder.connect(broker.url, ["labx/+/availability"]);
      nodes = bash(readmeBlock("nodes"), dir, env, true);
      await rec.waitFor(
        () =>
          Object.keys(NODES).every((id) =>
            rec!.on(`labx/${id}/availability`).some((m) => m.text === "online"),
          )
            ? true
            : undefined,
        60_000,
        "the three nodes online",
      );
      const run = bash(readmeBlock("run"), dir, env);
      assert.equal(await run.exited, 0, run.err());
      t.diagnostic(run.out());
      const at = /--at "\$\(\(\$\(date \+%s\) \+ (\d+)\)\)"/.exec(readmeBlock("run"));
      assert.ok(at, "the start is one `at`");
      const rows = readFileSync(path.join(dir, "lab", "exp01-index", "timeline.csv"), "utf8")
        .trim()
        .split("\n")
        .slice(1);
      const summary = JSON.parse(
        readFileSync(path.join(dir, "lab", "exp01-index", "summary.json"), "utf8"),
      ) as SessionSummary;
      assert.equal(summary.rate, 30, "ticks at the slowest node's rate");
      assert.deepEqual(Object.keys(summary.nodes).sort(), Object.keys(NODES));
      const starts: number[] = [];
      for (const [id, rate] of Object.entries(NODES)) {
        const n = summary.nodes[id]!;
        assert.ok(Math.abs(n.rate! - rate) < rate * 0.02, `${id}: ${n.rate}/s`);
        // Free-running cameras have their own phase: only the session's first or last tick can lie more
        // than half a tick from a node's first or last frame.
        const missing = rows
          .map((r) => r.split(","))
          .filter((c) => c[2] === id && c[8] === "1")
          .map((c) => Number(c[0]));
        assert.equal(n.missing_ticks, missing.length);
        assert.equal(n.clock.unsynced_batches, 0, `${id}: every batch on a synchronized clock`);
        const manifest = readManifest(path.join(dir, "lab", id, "exp01", "manifest.jsonl"));
        if (id.startsWith("CAM")) {
          // The synthetic cameras' frames are on an exact grid: no gap, and a frame at every tick but
          // the edges.
          assert.deepEqual(n.gaps_found, [], `${id}: no gap`);
          assert.ok(
            missing.every((k) => k === 0 || k === summary.ticks - 1),
            `${id}: a frame at every tick but the edges (missing: ${missing.join(", ")})`,
          );
        } else {
          // The IMU samples on a busy machine's schedule: its own rows are the truth. No sample is
          // lost; align's gaps and missing ticks are exactly where its times say.
          const truth = manifest.flatMap((b) =>
            readFileSync(path.join(dir, "lab", id, b.file), "utf8")
              .trim()
              .split("\n")
              .slice(1)
              .map((l) => l.split(","))
              .map((c) => ({ sample: Number(c[0]), us: epochTextUs(c[1]!) })),
          );
          assert.deepEqual(
            truth.map((x) => x.sample),
            truth.map((_, i) => i),
            "every sample once",
          );
          const limitUs = 1.5e6 / n.rate!;
          const gaps = truth
            .slice(1)
            .flatMap((x, i) => (x.us - truth[i]!.us > limitUs ? [[truth[i]!.us, x.us]] : []));
          assert.deepEqual(
            n.gaps_found.map((g) => [isoUs(g.start), isoUs(g.end)]),
            gaps,
            `${id}: the gaps align finds are the sensor's own late samples`,
          );
          const halfTickUs: number = 1e6 / summary.rate / 2;
          const ticks = rows.map((r) => r.split(",")).filter((c) => c[2] === id);
          const expectMissing: number[] = ticks
            .filter((c): boolean => !truth.some((x) => Math.abs(x.us - epochTextUs(c[1]!)) < halfTickUs))
            .map((c) => Number(c[0]));
          assert.deepEqual(missing, expectMissing, `${id}: a sample at every tick its times allow`);
          t.diagnostic(
            `${id}: ${gaps.length} late samples over ${(limitUs / 1000).toFixed(1)} ms, ${missing.length} ticks missing`,
          );
        }
        assert.equal(manifest.length, 3, `${id}: 12 s in batches of 4 s`);
        assert.equal(manifest.at(-1)!.last, true);
        starts.push(isoUs(manifest[0]!.start));
      }
      // Every node's first frame or sample is at or after `at` (whole seconds): the synthetic cameras'
      // within one frame (their exact schedule), the IMU's when its first sample (due at `at`) was taken.
      const atUs = Math.floor(Math.min(...starts) / 1e6) * 1e6;
      for (const [i, [id, rate]] of Object.entries(NODES).entries()) {
        const late = starts[i]! - atUs;
        assert.ok(late >= 0, `${id} starts ${late} µs after at`);
        if (id.startsWith("CAM")) assert.ok(late < 1e6 / rate, `${id} starts ${late} µs after at`);
        else t.diagnostic(`${id}: first sample ${late} µs after at`);
      }
      assert.equal(rows.length, summary.ticks * 3, "one row per tick and node");
      for (const p of summary.pairs)
        assert.equal(p.verdict, "aligned", `${p.a} ~ ${p.b}: ${p.p99_ms} ms p99`);
    } finally {
      if (nodes && nodes.child.exitCode === null) {
        process.kill(-nodes.child.pid!, "SIGTERM");
        await nodes.exited;
      }
      await rec?.close();
      await broker?.stop();
      await client?.stop();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
