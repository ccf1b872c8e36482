import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest } from "../../node/data/manifest.js";
import type { BatchReady, NodeState, Reply } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

// One owner of resending. The node reaches a real aedes through a proxy that first swallows what the
// node sends (messages in flight, never acknowledged), then cuts the connection and refuses it for a
// while, then lets it back. A subscriber on the broker counts what arrives.
describe("resending across a reconnect (real aedes behind a faulty proxy, real ffmpeg)", () => {
  it("every in-flight reply and batch is delivered once, not once per layer; stale retained state is not replayed", async (t) => {
    const broker = await startAedes();
    let proxy: TcpProxy | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      proxy = await TcpProxy.start(broker.port);
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({ broker_url: proxy.url, sbc_id: "RS1", batch_duration: 1, disable_sync: true });
      const node = run.node;
      assert.equal((await rec.command("labx", "RS1", "RS1", { cmd: "start", session: "r" })).ok, true);
      await rec.waitFor(() => rec!.jsonOn("labx/RS1/batch")[1], 30_000, "two batches");

      // In flight: the node sends, nothing reaches the broker, nothing is acknowledged.
      const frozenAt = Date.now();
      proxy.freeze();
      const ids = ["q1", "q2", "q3"];
      for (const id of ids) await rec.publish("labx/RS1/cmd", JSON.stringify({ cmd: "status", id }));
      const before = node.state.batches;
      await rec.waitFor(
        () => (node.state.batches >= before + 2 ? true : undefined),
        30_000,
        "batches in flight",
      );
      // Offline: the connection is cut and refused; batches and state changes go on.
      proxy.down();
      const offline = node.state.batches;
      await rec.waitFor(
        () => (node.state.batches >= offline + 2 ? true : undefined),
        30_000,
        "batches offline",
      );
      const backAt = Date.now();
      proxy.up();
      await rec.waitFor(
        () =>
          rec!.on("labx/RS1/availability").filter((m) => m.text === "online").length >= 2 ? true : undefined,
        30_000,
        "online again",
      );
      assert.equal((await rec.command("labx", "RS1", "RS1", { cmd: "stop" })).ok, true);
      const manifest = readManifest(path.join(run.dataDir, "r", "manifest.jsonl"));
      await rec.waitFor(
        () => (rec!.jsonOn<BatchReady>("labx/RS1/batch").some((b) => b.last) ? true : undefined),
        30_000,
        "the last batch",
      );
      // A duplicate would come right behind: the node stopped (all it owed delivered), then every
      // message the broker passed on before a marker of ours has arrived.
      await run.stop();
      await rec.barrier("labx");

      const replies = rec.jsonOn<Reply>("labx/RS1/reply");
      for (const id of ids)
        assert.equal(replies.filter((r) => r.id === id).length, 1, `reply ${id} delivered exactly once`);
      const batches = rec.jsonOn<BatchReady>("labx/RS1/batch");
      const keys = batches.map((b) => `${b.session}/${b.seq}`);
      assert.deepEqual(
        [...new Set(keys)],
        manifest.map((b) => `${b.session}/${b.seq}`),
        "every batch in the manifest delivered, in order",
      );
      assert.equal(
        keys.length - new Set(keys).size,
        0,
        "no batch delivered twice (none reached the broker before the cut)",
      );
      const states = rec.jsonOn<NodeState>("labx/RS1/state");
      const stale = states.filter((s) => {
        const at = Date.parse(s.updated_at);
        return at >= frozenAt && at < backAt;
      });
      assert.deepEqual(stale, [], "no state made while frozen or offline is replayed");
      assert.ok(
        states.some((s) => Date.parse(s.updated_at) >= backAt && s.state === "recording"),
        "the current state is published again on reconnect",
      );
      t.diagnostic(
        `${manifest.length} batches, ${replies.length} replies, ${states.length} states delivered`,
      );
    } finally {
      await run?.stop();
      await rec?.close();
      await proxy?.stop();
      await broker.stop();
    }
  });
});
