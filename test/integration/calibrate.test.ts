// The calibrate command against a real node on a real broker (aedes): the latency it keeps is in the
// state, survives a restart, is applied to the next session's times (synthetic camera), and yields to
// --latency-ms; bad values are refused with INVALID_PAYLOAD and change nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { CALIBRATION_FILE } from "../../node/calibration/calibration.js";
import { isoUs } from "../../align/session-reader.js";
import { startAedes } from "../helpers/aedes.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, tempDir, type RunningNode } from "../helpers/node.js";

const lastState = (rec: MqttRecorder, node: string): NodeState | undefined =>
  rec.jsonOn<NodeState>(`labx/${node}/state`).at(-1);

test("calibrate keeps a latency across restarts, shows it in the state and corrects the next session; --latency-ms wins", async () => {
  const broker = await startAedes();
  const dataDir = tempDir();
  let rec: MqttRecorder | undefined;
  const running: RunningNode[] = [];
  const start = async (extra: Record<string, unknown> = {}): Promise<RunningNode> => {
    const n = await startNode({
      broker_url: broker.url,
      sbc_id: "CAL",
      data_dir: dataDir,
      disable_sync: true,
      batch_duration: 1,
      preview_interval: 0,
      ...extra,
    });
    running.push(n);
    return n;
  };
  try {
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const node = await start();
    for (const bad of [{}, { latency_ms: -3 }, { latency_ms: "12" }, { latency_ms: 12, session: "a/b" }]) {
      const r = await rec.command("labx", "CAL", "CAL", { cmd: "calibrate", ...bad });
      assert.deepEqual([r.ok, r.code], [false, "INVALID_PAYLOAD"], JSON.stringify(bad));
    }
    assert.equal(existsSync(path.join(dataDir, CALIBRATION_FILE)), false, "a refused command keeps nothing");

    const r = await rec.command("labx", "CAL", "CAL", { cmd: "calibrate", latency_ms: 42.5, session: "tc1" });
    assert.equal(r.ok, true);
    assert.equal((r.state as NodeState).latency_ms, 42.5);
    assert.equal((r.state as NodeState).latency_source, "verify");
    await rec.waitFor(() => (lastState(rec!, "CAL")?.latency_ms === 42.5 ? true : undefined), 5000, "state");

    // Kept across a restart.
    await node.stop();
    running.pop();
    const seen = rec.jsonOn<NodeState>("labx/CAL/state").length;
    await start();
    const after = await rec.waitFor(
      () => rec!.jsonOn<NodeState>("labx/CAL/state").slice(seen).at(-1),
      10_000,
      "state after restart",
    );
    assert.deepEqual([after.latency_ms, after.latency_source], [42.5, "verify"]);

    // Applied to the next session: every time is the stamped one less 42.5 ms.
    assert.equal(
      (await rec.command("labx", "CAL", "CAL", { cmd: "start", session: "cal1", duration: 2 })).ok,
      true,
    );
    await rec.waitFor(
      () => rec!.jsonOn<NodeEvent>("labx/CAL/event").find((e) => e.type === "session_ended"),
      30_000,
      "end",
    );
    const batches = rec.jsonOn<BatchReady>("labx/CAL/batch");
    assert.ok(batches.length >= 2);
    for (const b of batches) {
      assert.equal(b.latency_ms, 42.5);
      assert.equal(isoUs(b.raw_start!) - isoUs(b.start), 42_500);
      assert.equal(isoUs(b.raw_end!) - isoUs(b.end), 42_500);
    }
    const manifest = readFileSync(path.join(dataDir, "cal1", "manifest.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as BatchReady);
    assert.deepEqual(manifest, batches, "the manifest holds what was announced");

    // null forgets it; --latency-ms, when configured, stays in effect whatever is saved.
    const cleared = await rec.command("labx", "CAL", "CAL", { cmd: "calibrate", latency_ms: null });
    assert.equal(cleared.ok, true);
    assert.equal((cleared.state as NodeState).latency_ms, undefined);
    assert.equal(existsSync(path.join(dataDir, CALIBRATION_FILE)), false);
    await running.pop()!.stop();
    await start({ latency_ms: 30 });
    const configured = await rec.command("labx", "CAL", "CAL", { cmd: "calibrate", latency_ms: 50 });
    assert.deepEqual(
      [(configured.state as NodeState).latency_ms, (configured.state as NodeState).latency_source],
      [30, "config"],
    );
  } finally {
    await rec?.close();
    for (const n of running) await n.stop();
    await broker.stop();
  }
});
