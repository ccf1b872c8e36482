// --source command end to end: the simulated IMU of docs/examples/imu-sensor.py (a real Python
// process) as a node's sensor, on a real mosquitto. Ground truth is what the program wrote: every
// sample's number and time in its own batch files.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { epochTextUs, isoUs, parseSidecar } from "../../align/session-reader.js";
import { readManifest } from "../../node/data/manifest.js";
import { uniqueBatches } from "../helpers/delivery.js";
import { sha256 } from "../helpers/media.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { withNode } from "../helpers/harness.js";
import { ROOT, runCli, tempDir, type CliProcess, type RunningNode } from "../helpers/node.js";

const IMU = ["python3", path.join(ROOT, "docs", "examples", "imu-sensor.py"), "--rate", "100"];
const PERIOD_US = 10_000;

/** PIDs of the processes run with LABX_NODE=<node> in their environment (the node's sensor program). */
function programPids(node: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(`LABX_NODE=${node}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The program's own rows of a batch file: sample number and time, as it wrote them. */
function programRows(file: string): { sample: number; us: number }[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","))
    .map((c) => ({ sample: Number(c[0]), us: epochTextUs(c[1]!) }));
}

/** Every batch: its file and hash as announced, its sidecar's times the program's own, row for row. */
function checkBatches(
  run: RunningNode,
  batches: BatchReady[],
  gapStarts: ReadonlySet<number> = new Set(),
): { sample: number; us: number }[] {
  const all: { sample: number; us: number }[] = [];
  for (const b of batches) {
    const file = path.join(run.dataDir, b.file);
    assert.match(b.file, /_\d{9}\.csv$/, "named by labx, the program's extension kept");
    assert.equal(sha256(file), b.sha256, `${b.file}: sha256`);
    const rows = programRows(file);
    const sidecar = parseSidecar(readFileSync(path.join(run.dataDir, b.frames_file), "utf8"), b.file, b.seq);
    assert.equal(b.frames, rows.length, `${b.file}: frames = the program's samples`);
    assert.deepEqual(
      sidecar.map((r) => r.epochUs),
      rows.map((r) => r.us),
      `${b.file}: the sidecar holds the program's sample times exactly`,
    );
    // A batch starts at its first sample or, continuing the one before (no gap between), where that
    // one ended: batches tile the session as the contract says, the samples keep their own times.
    const before = batches[batches.indexOf(b) - 1];
    const continues = before !== undefined && !gapStarts.has(isoUs(before.end));
    assert.equal(isoUs(b.start), continues ? isoUs(before.end) : rows[0]!.us, `${b.file}: start`);
    assert.ok(isoUs(b.start) <= rows[0]!.us);
    assert.ok(isoUs(b.end) >= rows.at(-1)!.us);
    all.push(...rows);
  }
  return all;
}

describe("--source command: a sensor program records beside the cameras", () => {
  it("a timed session: every sample in exactly one batch, its times kept, batches gap-free on the grid, the last marked", async () => {
    await withNode(
      { sbc_id: "IMU1", batch_duration: 1, source: "command", source_command: IMU },
      async ({ rec, run }) => {
        const reply = await rec.command("labx", "IMU1", "IMU1", {
          cmd: "start",
          session: "imu",
          duration: 4,
        });
        assert.equal(reply.ok, true, JSON.stringify(reply));
        assert.equal((reply.state as { camera: string }).camera, "command:python3");
        await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>("labx/IMU1/event").find((e) => e.type === "session_ended"),
          30_000,
          "session ended",
        );
        const manifest = readManifest(path.join(run.dataDir, "imu", "manifest.jsonl"));
        const { batches } = uniqueBatches(rec, "IMU1");
        assert.deepEqual(batches, manifest, "every manifest line announced, in order");
        assert.ok(manifest.length >= 4, `${manifest.length} batches`);
        const samples = checkBatches(run, manifest);
        assert.deepEqual(
          samples.map((s) => s.sample),
          samples.map((_, i) => i),
          "samples numbered without a hole across the batches",
        );
        for (const [i, b] of manifest.entries()) {
          if (i > 0) assert.equal(b.start > manifest[i - 1]!.end || b.start === manifest[i - 1]!.end, true);
          if (i + 2 < manifest.length) {
            // Cut on the session's grid: each batch ends where the next second of the session begins
            // (its samples all before, the next batch's all at or after: checkBatches holds start and
            // end to the program's own rows).
            assert.ok(isoUs(manifest[i + 1]!.start) >= isoUs(b.end), `batch ${i + 1} starts after ${i} ends`);
            assert.equal(isoUs(manifest[i + 1]!.end) - isoUs(b.end), 1_000_000, "one batch_duration apart");
          }
        }
        assert.equal(manifest.at(-1)!.last, true);
        assert.ok(manifest.slice(0, -1).every((b) => !b.last));
        const started = Date.parse(
          rec.jsonOn<{ state: { started_at: string } }>("labx/IMU1/reply")[0]!.state.started_at,
        );
        assert.ok(
          isoUs(manifest.at(-1)!.end) <= (started + 4000) * 1000 + PERIOD_US,
          "ends at start + duration",
        );
        assert.deepEqual(readdirSync(path.join(run.dataDir, "imu", "incoming")), [], "nothing left unlisted");
      },
    );
  });

  it("a program killed mid-session is restarted: a gap event with the exact window, numbering goes on, stop marks the last", async () => {
    await withNode(
      { sbc_id: "IMU2", batch_duration: 1, source: "command", source_command: IMU },
      async ({ rec, run }) => {
        assert.equal(
          (await rec.command("labx", "IMU2", "IMU2", { cmd: "start", session: "crash" })).ok,
          true,
        );
        await rec.waitFor(
          () => (uniqueBatches(rec!, "IMU2").batches.length >= 2 ? true : undefined),
          20_000,
          "two batches",
        );
        const [pid] = programPids("IMU2");
        assert.ok(pid, "the sensor program runs");
        process.kill(pid, "SIGKILL");
        const gap = await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>("labx/IMU2/event").find((e) => e.type === "gap"),
          30_000,
          "gap event",
        );
        assert.ok(rec.jsonOn<NodeEvent>("labx/IMU2/event").some((e) => e.type === "recorder_restarted"));
        await rec.waitFor(
          () => (uniqueBatches(rec!, "IMU2").batches.some((b) => b.start >= gap.gap_end!) ? true : undefined),
          20_000,
          "a batch after the restart",
        );
        assert.equal((await rec.command("labx", "IMU2", "IMU2", { cmd: "stop" })).ok, true);
        const manifest = readManifest(path.join(run.dataDir, "crash", "manifest.jsonl"));
        assert.deepEqual(uniqueBatches(rec, "IMU2").batches, manifest);
        assert.deepEqual(
          manifest.map((b) => b.seq),
          manifest.map((_, i) => i),
          "batch numbers without a hole",
        );
        checkBatches(run, manifest, new Set([isoUs(gap.gap_start!)]));
        // The gap is exactly the window between the batches around it.
        const after = manifest.findIndex((b) => isoUs(b.start) === isoUs(gap.gap_end!));
        assert.ok(after > 0, "the gap ends at a batch's first sample");
        assert.equal(
          isoUs(manifest[after - 1]!.end),
          isoUs(gap.gap_start!),
          "and starts where the batch before ends",
        );
        assert.equal(manifest.at(-1)!.last, true);
      },
    );
  });

  it("the node killed -9 mid-session: its program closes its batch, the restarted node lists it (recovered), no sample lost", async () => {
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let node: CliProcess | undefined;
    const dataDir = tempDir();
    const args = (b: Broker): string[] => [
      "node",
      "--broker-url",
      b.url,
      "--sbc-id",
      "IMU4",
      "--data-dir",
      dataDir,
      "--batch-duration",
      "1",
      "--ui-port",
      "0",
      "--source",
      "command",
      "--source-command",
      JSON.stringify(IMU),
    ];
    try {
      broker = await startMosquitto();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      node = runCli(args(broker));
      const online = (n: number): Promise<boolean> =>
        rec!.waitFor(
          () =>
            rec!.on("labx/IMU4/availability").filter((m) => m.text === "online").length >= n
              ? true
              : undefined,
          30_000,
          "online",
        );
      await online(1);
      assert.equal((await rec.command("labx", "IMU4", "IMU4", { cmd: "start", session: "killed" })).ok, true);
      await rec.waitFor(
        () => (uniqueBatches(rec!, "IMU4").batches.length >= 2 ? true : undefined),
        20_000,
        "two batches",
      );
      node.child.kill("SIGKILL");
      await node.exited;
      // The program got SIGTERM with its parent's death: it closes its batch and leaves.
      await rec.waitFor(
        () => (programPids("IMU4").length === 0 ? true : undefined),
        10_000,
        "the program gone",
      );
      node = runCli(args(broker));
      const ended = await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/IMU4/event").find((e) => e.type === "session_ended"),
        30_000,
        "the interrupted session ended by recovery",
      );
      assert.equal(ended.reason, "interrupted");
      const manifest = readManifest(path.join(dataDir, "killed", "manifest.jsonl"));
      await rec.waitFor(
        () => (uniqueBatches(rec!, "IMU4").batches.length >= manifest.length ? true : undefined),
        10_000,
        "every batch announced",
      );
      assert.deepEqual(uniqueBatches(rec, "IMU4").batches, manifest);
      const recovered = manifest.filter((b) => b.recovered);
      assert.ok(recovered.length >= 1, "the batch closed at the kill is listed by recovery");
      assert.equal(manifest.at(-1)!.last, true);
      const samples = checkBatches({ dataDir } as RunningNode, manifest);
      assert.deepEqual(
        samples.map((x) => x.sample),
        samples.map((_, i) => i),
        "every sample up to the kill, none lost",
      );
    } finally {
      node?.child.kill("SIGTERM");
      await node?.exited;
      await rec?.close();
      await broker?.stop();
    }
  });

  it("a program that fails before its first sample: the start is refused with what it said", async () => {
    await withNode(
      {
        sbc_id: "IMU3",
        source: "command",
        source_command: [
          "python3",
          "-c",
          "import sys; sys.stderr.write('no IMU on /dev/i2c-1\\n'); sys.exit(2)",
        ],
      },
      async ({ rec }) => {
        const reply = await rec.command("labx", "IMU3", "IMU3", { cmd: "start", session: "none" });
        assert.equal(reply.ok, false);
        assert.equal(reply.code, "CAMERA_UNAVAILABLE");
        assert.match(
          String(reply.message),
          /the sensor program python3 exited before its first sample: no IMU on \/dev\/i2c-1/,
        );
        const state = await rec.command("labx", "IMU3", "IMU3", { cmd: "status" });
        assert.equal((state.state as { state: string }).state, "idle");
      },
    );
  });
});
