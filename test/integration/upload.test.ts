import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { readLedger } from "../../node/upload/upload-ledger.js";
import { assertContract } from "../helpers/contract.js";
import { tempDir } from "../helpers/node.js";
import { assertAllInStore, backlogEmpty, withStoreRig } from "../helpers/s3.js";

// Batches leave the node for a real S3-compatible store (OpenStack Swift with s3api, test/helpers/
// swift.ts) as they close, verified: every object is read back from the store and compared with the
// file and the manifest's sha256.

describe("upload to an S3-compatible store (Swift s3api)", () => {
  it("every batch, its sidecar and the manifest are uploaded as batches close, verified, each announced once as uploaded", async () => {
    await withStoreRig(async ({ s3, rec: mq, node: uploadingNode }) => {
      const node = await uploadingNode({
        sbc_id: "UP1",
        batch_duration: 1,
      });
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
    });
  });

  it("a node stopped as its session ends (as a --duration launch does) uploads what is left before it goes", async () => {
    await withStoreRig(async ({ s3, rec: mq, node: uploadingNode }) => {
      const node = await uploadingNode({
        sbc_id: "UP3",
        batch_duration: 1,
      });
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
    });
  });

  it("the store down for 60 s in the middle of a session: recording goes on, upload_failed once, the backlog in the state, then every file uploaded once", async () => {
    await withStoreRig(async ({ store, s3, rec: mq, node: uploadingNode }) => {
      const run = await uploadingNode({
        sbc_id: "UP2",
        batch_duration: 5,
        video_size: "320x240",
      });
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
    });
  });

  it("retention never removes a session not yet verified in the store; once uploaded, it may", async () => {
    const dataDir = tempDir();
    const options = { sbc_id: "RET", data_dir: dataDir, batch_duration: 1, max_usage_mb: 1 };
    await withStoreRig(async ({ store, s3, rec: mq, node: uploadingNode }) => {
      await store.down();
      let run = await uploadingNode(options);
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
      // Over --max-usage 1 MiB, with nothing in the store: retention's pass after the second session
      // says it keeps both (the event), and both are there.
      const held = await mq.waitFor(
        () =>
          mq
            .jsonOn<NodeEvent>("labx/RET/event")
            .filter((e) => e.type === "disk_low" && e.reason === "backlog")
            .find((e) => e.message.startsWith("over --max-usage: 2 finished sessions")),
        10_000,
        "over the limit with a backlog: an event, not a silent loss",
      );
      assert.ok(existsSync(path.join(dataDir, "first", "manifest.jsonl")), "first kept: not uploaded");
      assert.ok(existsSync(path.join(dataDir, "second", "manifest.jsonl")), "second kept: not uploaded");
      assert.match(held.message, /kept until delivered and uploaded/);
      await store.up();
      await mq.waitFor(() => backlogEmpty(mq, "RET"), 60_000, "backlog empty");
      await assertAllInStore(s3, run, "first", 1);
      await run.stop();
      // At its next start, retention removes what the store now holds.
      run = await uploadingNode(options);
      assert.ok(!existsSync(path.join(dataDir, "first")), "first removed once uploaded");
    });
  });
});
