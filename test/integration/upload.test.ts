import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { readManifest } from "../../node/store/manifest.js";
import { readLedger } from "../../node/upload/upload-ledger.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";
import { startSwift, type SwiftStore } from "../helpers/swift.js";

// Batches leave the node for a real S3-compatible store (OpenStack Swift with s3api, test/helpers/
// swift.ts) as they close, verified: every object is read back from the store and compared with the
// file and the manifest's sha256.

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

function client(store: SwiftStore): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: store.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

async function objectBytes(s3: S3Client, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: "labx", Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** The node reads the store's credentials the SDK's way: from the environment (never a flag). */
async function withCredentials<T>(store: SwiftStore, fn: () => Promise<T>): Promise<T> {
  const saved = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY];
  process.env.AWS_ACCESS_KEY_ID = store.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = store.credentials.secretAccessKey;
  try {
    return await fn();
  } finally {
    for (const [k, v] of [
      ["AWS_ACCESS_KEY_ID", saved[0]],
      ["AWS_SECRET_ACCESS_KEY", saved[1]],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** The node's latest state says nothing waits for the store. */
const backlogEmpty = (mq: MqttRecorder, node: string): NodeState | undefined => {
  const last = mq.jsonOn<NodeState>(`labx/${node}/state`).at(-1);
  return last?.state === "idle" && last.upload?.pending === 0 ? last : undefined;
};

/** Every batch, sidecar and the manifest are in the store, byte for byte, the batch's sha256 in its metadata. */
async function assertAllInStore(s3: S3Client, run: RunningNode, session: string): Promise<BatchReady[]> {
  const batches = readManifest(path.join(run.dataDir, session, "manifest.jsonl"));
  assert.ok(batches.length >= 3, `${batches.length} batches`);
  for (const b of batches) {
    const key = `exp/${run.config.sbc_id}/${session}/${path.basename(b.file)}`;
    const bytes = await objectBytes(s3, key);
    assert.equal(sha256(bytes), b.sha256, `${key}: the store's bytes are the batch's`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "labx", Key: key }));
    assert.equal(head.Metadata?.sha256, b.sha256, `${key}: sha256 in the object's metadata`);
    const sidecar = `exp/${run.config.sbc_id}/${session}/${path.basename(b.frames_file)}`;
    assert.deepEqual(await objectBytes(s3, sidecar), readFileSync(path.join(run.dataDir, b.frames_file)));
  }
  const manifest = await objectBytes(s3, `exp/${run.config.sbc_id}/${session}/manifest.jsonl`);
  assert.deepEqual(
    manifest,
    readFileSync(path.join(run.dataDir, session, "manifest.jsonl")),
    "the whole manifest",
  );
  return batches;
}

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

  it("the store down for part of a session: recording goes on, upload_failed once, then every file uploaded when it is back, none twice", async () => {
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
          batch_duration: 1,
          disable_sync: true,
          upload_url: "s3://labx/exp",
          upload_endpoint: store!.endpoint,
        }),
      );
      await store.down();
      assert.equal(
        (await mq.command("labx", "UP2", "UP2", { cmd: "start", session: "out", duration: 4 })).ok,
        true,
      );
      await mq.waitFor(
        () => mq.jsonOn<NodeEvent>("labx/UP2/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const failed = mq.jsonOn<NodeEvent>("labx/UP2/event").filter((e) => e.type === "upload_failed");
      assert.equal(failed.length, 1, "said once per outage");
      const waiting = mq.jsonOn<NodeState>("labx/UP2/state").at(-1)!;
      assert.ok(
        (waiting.upload?.pending ?? 0) > 0 && waiting.upload?.last_error,
        JSON.stringify(waiting.upload),
      );
      const batches = mq.jsonOn<BatchReady>("labx/UP2/batch");
      assert.ok(batches.length >= 3, "recording went on");
      await store.up();
      await mq.waitFor(() => backlogEmpty(mq, "UP2"), 90_000, "backlog empty after the outage");
      await assertAllInStore(s3, run, "out");
      const uploaded = mq.jsonOn<NodeEvent>("labx/UP2/event").filter((e) => e.type === "uploaded");
      assert.deepEqual(
        uploaded.map((e) => e.seq).sort((a, b) => a! - b!),
        batches.map((b) => b.seq),
        "each batch uploaded once",
      );
      s3.destroy();
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });
});
