import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { readLedger } from "../../node/upload/upload-ledger.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { assertAllInStore, backlogEmpty, client, withCredentials } from "../helpers/s3.js";
import { startSwift, type SwiftStore } from "../helpers/swift.js";

// Batches leave the node for a real S3-compatible store (OpenStack Swift with s3api, test/helpers/
// swift.ts) as they close, verified: every object is read back from the store and compared with the
// file and the manifest's sha256.

describe("upload to an S3-compatible store (Swift s3api)", () => {
  it("every batch, its sidecar and the manifest are uploaded as batches close, verified, each announced once as uploaded", async () => {
    let store: SwiftStore | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      store = await startSwift();
      const s3 = client(store);
      await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      const node = await withCredentials(store, () =>
        startNode({
          broker_url: broker!.url,
          sbc_id: "UP1",
          batch_duration: 1,
          disable_sync: true,
          upload_url: "s3://labx/exp",
          upload_endpoint: store!.endpoint,
        }),
      );
      run = node;
      assert.equal(
        (await mq.command("labx", "UP1", "UP1", { cmd: "start", session: "up", duration: 4 })).ok,
        true,
      );
      await mq.waitFor(
        () => mq.jsonOn<NodeEvent>("labx/UP1/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const count = mq.jsonOn<BatchReady>("labx/UP1/batch").length;
      await mq.waitFor(
        () =>
          mq.jsonOn<NodeEvent>("labx/UP1/event").filter((e) => e.type === "uploaded").length >= count ||
          undefined,
        30_000,
        "uploaded events",
      );
      await mq.waitFor(() => backlogEmpty(mq, "UP1"), 30_000, "backlog empty");
      const batches = await assertAllInStore(s3, node, "up");
      const uploaded = mq.jsonOn<NodeEvent>("labx/UP1/event").filter((e) => e.type === "uploaded");
      assert.deepEqual(
        uploaded.map((e) => [e.seq, e.key, e.sha256, e.bytes]),
        batches.map((b) => [b.seq, `exp/UP1/up/${path.basename(b.file)}`, b.sha256, b.bytes]),
        "one uploaded event per batch, in order, with key, sha256 and bytes",
      );
      const ledger = readLedger(path.join(node.dataDir, "up"));
      assert.ok(ledger.has("session-end.json"), "the session's end record too");
      assert.ok(assertContract(mq.messages, "labx", "UP1") > 5);
      s3.destroy();
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });

  it("a node stopped as its session ends (as a --duration launch does) uploads what is left before it goes", async () => {
    let store: SwiftStore | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      store = await startSwift();
      const s3 = client(store);
      await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      const node = await withCredentials(store, () =>
        startNode({
          broker_url: broker!.url,
          sbc_id: "UP3",
          batch_duration: 1,
          disable_sync: true,
          upload_url: "s3://labx/exp",
          upload_endpoint: store!.endpoint,
        }),
      );
      run = node;
      assert.equal(
        (await mq.command("labx", "UP3", "UP3", { cmd: "start", session: "quick", duration: 3 })).ok,
        true,
      );
      await mq.waitFor(
        () => mq.jsonOn<NodeEvent>("labx/UP3/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      await node.node.stop();
      const ledger = readLedger(path.join(node.dataDir, "quick"));
      assert.ok(
        ledger.has("session-end.json") && ledger.has("manifest.jsonl"),
        [...ledger.keys()].join(", "),
      );
      await assertAllInStore(s3, node, "quick", 2);
      s3.destroy();
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });

  it("the store down for 60 s in the middle of a session: recording goes on, upload_failed once, the backlog in the state, then every file uploaded once", async () => {
    let store: SwiftStore | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      store = await startSwift();
      const s3 = client(store);
      await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      run = await withCredentials(store, () =>
        startNode({
          broker_url: broker!.url,
          sbc_id: "UP2",
          batch_duration: 5,
          video_size: "320x240",
          disable_sync: true,
          upload_url: "s3://labx/exp",
          upload_endpoint: store!.endpoint,
        }),
      );
      const r = await mq.command("labx", "UP2", "UP2", { cmd: "start", session: "out", duration: 75 });
      assert.equal(r.ok, true);
      const uploadedSoFar = (): NodeEvent[] =>
        mq.jsonOn<NodeEvent>("labx/UP2/event").filter((e) => e.type === "uploaded");
      await mq.waitFor(
        () => (uploadedSoFar().length >= 1 ? true : undefined),
        30_000,
        "the first batch uploaded",
      );
      await store.down();
      const downAt = Date.now();
      await mq.waitFor(
        () =>
          mq
            .jsonOn<NodeState>("labx/UP2/state")
            .find((st) => (st.upload?.pending ?? 0) > 0 && st.upload?.last_error),
        30_000,
        "the backlog, with the store's error, in the state",
      );
      await new Promise((res) => setTimeout(res, Math.max(0, 60_000 - (Date.now() - downAt))));
      const during = mq.jsonOn<BatchReady>("labx/UP2/batch").length;
      assert.ok(during >= 12, `recording went on while the store was down: ${during} batches`);
      await store.up();
      await mq.waitFor(
        () => mq.jsonOn<NodeEvent>("labx/UP2/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      await mq.waitFor(() => backlogEmpty(mq, "UP2"), 60_000, "backlog empty after the outage");
      const failed = mq.jsonOn<NodeEvent>("labx/UP2/event").filter((e) => e.type === "upload_failed");
      assert.equal(failed.length, 1, "said once per outage");
      const batches = await assertAllInStore(s3, run, "out");
      assert.deepEqual(
        uploadedSoFar().map((e) => e.seq),
        batches.map((b) => b.seq),
        "each batch uploaded once, in order",
      );
      s3.destroy();
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });

  it("retention never removes a session not yet verified in the store; once uploaded, it may", async () => {
    let store: SwiftStore | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    const dataDir = tempDir();
    const config = (url: string) => ({
      broker_url: url,
      sbc_id: "RET",
      data_dir: dataDir,
      batch_duration: 1,
      disable_sync: true,
      max_usage_mb: 1,
      upload_url: "s3://labx/exp",
      upload_endpoint: store!.endpoint,
    });
    try {
      store = await startSwift();
      const s3 = client(store);
      await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      await store.down();
      run = await withCredentials(store, () => startNode(config(broker!.url)));
      for (const session of ["first", "second"]) {
        assert.equal(
          (await mq.command("labx", "RET", "RET", { cmd: "start", session, duration: 2 })).ok,
          true,
        );
        await mq.waitFor(
          () =>
            mq
              .jsonOn<NodeEvent>("labx/RET/event")
              .find((e) => e.type === "session_ended" && e.session === session),
          30_000,
          `${session} ended`,
        );
      }
      // Over --max-usage 1 MiB, with nothing in the store: both kept.
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(existsSync(path.join(dataDir, "first", "manifest.jsonl")), "first kept: not uploaded");
      assert.ok(existsSync(path.join(dataDir, "second", "manifest.jsonl")), "second kept: not uploaded");
      const held = mq
        .jsonOn<NodeEvent>("labx/RET/event")
        .find((e) => e.type === "disk_low" && e.reason === "backlog");
      assert.ok(held, "over the limit with a backlog: an event, not a silent loss");
      assert.match(held.message, /kept until delivered and uploaded/);
      await store.up();
      await mq.waitFor(() => backlogEmpty(mq, "RET"), 60_000, "backlog empty");
      await assertAllInStore(s3, run, "first", 1);
      await run.stop();
      // At its next start, retention removes what the store now holds.
      run = await withCredentials(store, () => startNode(config(broker!.url)));
      assert.ok(!existsSync(path.join(dataDir, "first")), "first removed once uploaded");
      s3.destroy();
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });
});
