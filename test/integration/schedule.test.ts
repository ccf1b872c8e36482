import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";
import { waitForProcessIn } from "../helpers/processes.js";

const PERIOD_US = 1e6 / 30;
const us = (iso: string): number => {
  const m = /\.(\d+)Z$/.exec(iso)!;
  return Math.floor(Date.parse(iso) / 1000) * 1e6 + Number(m[1]!.padEnd(6, "0"));
};

describe("synchronized start with at", () => {
  it("three nodes: first frames within one frame period of at, batch k starting at at + k × batch_duration on every node", async () => {
    const broker = await startAedes();
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const names = ["SYNC_A", "SYNC_B", "SYNC_C"];
    const nodes: RunningNode[] = [];
    try {
      for (const n of names)
        nodes.push(await startNode({ broker_url: broker.url, sbc_id: n, disable_sync: true }));
      const atMs = Math.ceil(Date.now() / 1000) * 1000 + 3000;
      const at = new Date(atMs).toISOString();
      await rec.publish(
        "labx/all/cmd",
        JSON.stringify({ cmd: "start", id: "sync1", session: "sync", at, batch_duration: 1, duration: 3 }),
      );
      for (const n of names) {
        const reply = await rec.waitFor(
          () => rec.jsonOn(`labx/${n}/reply`).find((r) => r.id === "sync1"),
          10_000,
          `${n} reply`,
        );
        assert.equal((reply.state as NodeState).state, "scheduled");
        assert.equal((reply.state as NodeState).scheduled_at, at);
      }
      for (const n of names)
        await rec.waitFor(
          () => rec.jsonOn(`labx/${n}/event`).find((e) => e.type === "session_ended"),
          30_000,
          `${n} end`,
        );
      for (const n of names) {
        // Three 1 s batches; a frame that lands exactly on at + 3 s may open a fourth (ffmpeg's -t keeps
        // it), so the count is not what the contract promises: aligned, contiguous starts are.
        const batches = rec.jsonOn<BatchReady>(`labx/${n}/batch`);
        assert.ok(batches.length >= 3, `${n}: ${batches.length} batches`);
        for (let k = 1; k < batches.length; k++) assert.equal(batches[k]!.start, batches[k - 1]!.end, n);
        assert.equal(batches.at(-1)!.last, true);
        const first = us(batches[0]!.start) - atMs * 1000;
        assert.ok(first >= 0 && first < PERIOD_US, `${n}: first frame ${first} µs after at`);
        batches.forEach((b, k) => {
          const off = us(b.start) - (atMs * 1000 + k * 1e6);
          assert.ok(off >= 0 && off < PERIOD_US, `${n} batch ${k} starts ${off} µs after at + ${k} s`);
        });
        const total = batches.reduce((s, b) => s + b.frames, 0);
        assert.ok(Math.abs(total - 90) <= 1, `${n}: ${total} frames in 3 s`);
        const recording = rec.jsonOn<NodeState>(`labx/${n}/state`).find((s) => s.state === "recording")!;
        assert.equal(
          Date.parse(recording.started_at!),
          Math.floor(us(batches[0]!.start) / 1000),
          `${n}: started_at is the first frame`,
        );
        const states = rec.jsonOn<NodeState>(`labx/${n}/state`).map((s) => s.state);
        assert.ok(states.indexOf("scheduled") < states.indexOf("recording"), states.join(" → "));
        assertContract(rec.messages, "labx", n);
      }
    } finally {
      for (const n of nodes) await n.stop();
      await rec.close();
      await broker.stop();
    }
  });

  it("stop inside the lead time (ffmpeg already running) cancels cleanly, with no batch and no failure", async () => {
    const broker = await startAedes();
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const run = await startNode({ broker_url: broker.url, sbc_id: "SYNC_X", disable_sync: true });
    try {
      const at = new Date(Date.now() + 2500).toISOString();
      assert.equal(
        (await rec.command("labx", "SYNC_X", "SYNC_X", { cmd: "start", session: "lead", at })).ok,
        true,
      );
      // Inside the lead time (at - 2 s): ffmpeg is up, waiting for at.
      await waitForProcessIn(path.join(run.dataDir, "lead"), "ffmpeg", 5000);
      const stop = await rec.command("labx", "SYNC_X", "SYNC_X", { cmd: "stop" });
      assert.equal((stop.state as NodeState).state, "idle");
      assert.equal((await rec.command("labx", "SYNC_X", "SYNC_X", { cmd: "status" })).ok, true);
      // Stopped, everything it owed delivered: nothing recorded was ever announced, nothing failed.
      await run.stop();
      await rec.barrier("labx");
      assert.equal(rec.on("labx/SYNC_X/batch").length, 0);
      assert.equal(rec.jsonOn("labx/SYNC_X/event").filter((e) => e.type === "recorder_failed").length, 0);
    } finally {
      await run.stop();
      await rec.close();
      await broker.stop();
    }
  });
});
