import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createS3Client } from "../../platform/s3/s3-client.js";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import { readManifest } from "../../node/data/manifest.js";
import type { Config } from "../../platform/config/config.js";
import { startAedes } from "./aedes.js";
import type { Broker } from "./mosquitto.js";
import { MqttRecorder } from "./mqtt-recorder.js";
import { startNode, type RunningNode } from "./node.js";
import { startSwift, type SwiftStore } from "./swift.js";
import { quietLibraries } from "../../platform/config/environment.js";

// As labx does at start: the AWS SDK's notice about Node.js releases stays out of the test output.
quietLibraries();

// Reading a test store back, to check what the node uploaded against its files and manifest.

export const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

export function client(store: SwiftStore): S3Client {
  return createS3Client({ endpoint: store.endpoint, region: "us-east-1", credentials: store.credentials });
}

export async function objectBytes(s3: S3Client, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: "labx", Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** The node reads the store's credentials the SDK's way: from the environment (never a flag). */
export async function withCredentials<T>(store: SwiftStore, fn: () => Promise<T>): Promise<T> {
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
export const backlogEmpty = (mq: MqttRecorder, node: string): NodeState | undefined => {
  const last = mq.jsonOn<NodeState>(`labx/${node}/state`).at(-1);
  return last?.state === "idle" && last.upload?.pending === 0 ? last : undefined;
};

/** Every batch, sidecar and the manifest are in the store, byte for byte, the batch's sha256 in its metadata. */
export async function assertAllInStore(
  s3: S3Client,
  run: { dataDir: string; config: { sbc_id: string } },
  session: string,
  minBatches = 3,
): Promise<BatchReady[]> {
  const batches = readManifest(path.join(run.dataDir, session, "manifest.jsonl"));
  assert.ok(batches.length >= minBatches, `${batches.length} batches`);
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

export interface StoreRig {
  store: SwiftStore;
  s3: S3Client;
  broker: Broker;
  /** A recorder on labx/#. */
  rec: MqttRecorder;
  /**
   * A node on the rig's broker uploading to s3://labx/exp on the rig's store (or `endpoint`, e.g. a
   * proxy in front of it), with the store's credentials; stopped with the rig.
   */
  node(overrides: Partial<Config> & { sbc_id: string }): Promise<RunningNode>;
  /** Something of the test's own to undo (a proxy…), before the nodes, broker and store go. */
  defer(fn: () => Promise<unknown> | unknown): void;
}

/**
 * A real Swift store with the bucket `labx`, an aedes broker and a recorder, for one upload test, torn
 * down whatever the test does: what it deferred, its nodes, the recorder, the broker, the store.
 */
export async function withStoreRig(test: (rig: StoreRig) => Promise<void>): Promise<void> {
  const undo: (() => Promise<unknown> | unknown)[] = [];
  let store: SwiftStore | undefined;
  let s3: S3Client | undefined;
  let broker: Broker | undefined;
  let rec: MqttRecorder | undefined;
  try {
    store = await startSwift();
    s3 = client(store);
    await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
    broker = await startAedes();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const [st, b] = [store, broker];
    await test({
      store: st,
      s3,
      broker: b,
      rec,
      node: async (overrides) => {
        const run = await withCredentials(st, () =>
          startNode({
            broker_url: b.url,
            disable_sync: true,
            upload_url: "s3://labx/exp",
            upload_endpoint: st.endpoint,
            ...overrides,
          }),
        );
        undo.push(() => run.stop());
        return run;
      },
      defer: (fn) => undo.push(fn),
    });
  } finally {
    for (const fn of undo.reverse()) await fn();
    s3?.destroy();
    await rec?.close();
    await broker?.stop();
    await store?.stop();
  }
}
