import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ListMultipartUploadsCommand, ListPartsCommand } from "@aws-sdk/client-s3";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import { readManifest } from "../../node/data/manifest.js";
import { readLedger } from "../../node/upload/upload-ledger.js";
import { runCli, tempDir } from "../helpers/node.js";
import { assertAllInStore, backlogEmpty, withStoreRig } from "../helpers/s3.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

// The store's checks and the upload's resumption, with a real Swift (s3api) behind a proxy that
// corrupts or slows what the node sends (test/helpers/tcp-proxy.ts).

const until = async (pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("upload faults (Swift s3api behind a faulty link)", () => {
  it("a part corrupted on the way is refused by the store (Content-MD5 or the signed SHA-256), reported, sent again, and the object is right", async () => {
    await withStoreRig(async ({ store, s3, rec: mq, node: uploadingNode, defer }) => {
      const proxy = await TcpProxy.start(Number(new URL(store.endpoint).port));
      defer(() => proxy.stop());
      proxy.corruptOnce();
      // 5 s batches of the synthetic camera at 720p (~7 MB) go in 5 MiB parts: the corrupted chunk is a part's.
      const run = await uploadingNode({
        sbc_id: "BAD",
        batch_duration: 5,
        video_size: "1280x720",
        upload_endpoint: `http://127.0.0.1:${proxy.port}`,
        upload_part_mb: 5,
      });
      assert.equal(
        (await mq.command("labx", "BAD", "BAD", { cmd: "start", session: "bad", duration: 11 })).ok,
        true,
      );
      await mq.waitFor(
        () => mq.jsonOn<NodeEvent>("labx/BAD/event").find((e) => e.type === "session_ended"),
        40_000,
        "end",
      );
      await mq.waitFor(() => backlogEmpty(mq, "BAD"), 60_000, "backlog empty");
      const failed = mq.jsonOn<NodeEvent>("labx/BAD/event").filter((e) => e.type === "upload_failed");
      assert.equal(failed.length, 1, JSON.stringify(failed));
      // Debian 12's Swift (2.30) checks the part's Content-MD5 first, Debian 13's its signed SHA-256.
      assert.match(
        failed[0]!.reason!,
        /BadDigest|Content-MD5|XAmzContentSHA256Mismatch/i,
        "the store refused the bytes",
      );
      const batches = await assertAllInStore(s3, run, "bad", 2);
      assert.ok(
        batches.some((b) => b.bytes > 5 * 1024 * 1024),
        "a batch went in parts",
      );
    });
  });

  it("the node killed -9 in the middle of a multipart upload: restarted, it keeps the parts the store holds and completes the object", async () => {
    await withStoreRig(async ({ store, s3, broker, defer }) => {
      const proxy = await TcpProxy.start(Number(new URL(store.endpoint).port));
      defer(() => proxy.stop());
      proxy.throttle(2 * 1024 * 1024);
      const dataDir = tempDir();
      const args = [
        "node",
        ...["--broker-url", broker.url, "--sbc-id", "KILL", "--data-dir", dataDir, "--disable-sync"],
        ...["--no-ha-discovery", "--upload-url", "s3://labx/exp", "--upload-part-mb", "5"],
        ...["--upload-endpoint", `http://127.0.0.1:${proxy.port}`, "--log-level", "debug"],
      ];
      const env = {
        AWS_ACCESS_KEY_ID: store.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
      };
      const first = runCli(
        [
          ...args,
          "--session",
          "kill",
          "--duration",
          "9",
          "--batch-duration",
          "8",
          "--video-size",
          "1280x720",
        ],
        env,
      );
      defer(() => first.child.kill("SIGKILL"));
      // Killed once the store holds a part of an unfinished multipart upload.
      await until(
        async () => {
          const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: "labx" }))).Uploads ?? [];
          for (const u of uploads) {
            const parts = await s3.send(
              new ListPartsCommand({ Bucket: "labx", Key: u.Key!, UploadId: u.UploadId! }),
            );
            if ((parts.Parts ?? []).length >= 1) return true;
          }
          return false;
        },
        60_000,
        "a part in the store",
      );
      first.child.kill("SIGKILL");
      await first.exited;
      proxy.throttle(0);
      const second = runCli(args, env);
      defer(async () => {
        second.child.kill("SIGTERM");
        await second.exited;
      });
      const ledger = path.join(dataDir, "kill");
      await until(
        () => {
          const batches = readManifest(path.join(ledger, "manifest.jsonl"));
          const done = readLedger(ledger);
          return batches.length > 0 && batches.every((b) => done.has(path.basename(b.file)));
        },
        60_000,
        "every batch verified in the store",
      );
      const batches = await assertAllInStore(s3, { dataDir, config: { sbc_id: "KILL" } }, "kill", 1);
      assert.ok(
        batches[0]!.bytes > 5 * 1024 * 1024,
        `batch 0 is ${batches[0]!.bytes} bytes: it went in parts`,
      );
      // The restarted node said it kept parts: resumed, not started over.
      const uploaded = second
        .stdout()
        .split("\n")
        .filter((l) => l.includes('"msg":"uploaded"'))
        .map((l) => JSON.parse(l) as { key: string; resumed_parts: number });
      const resumed = uploaded.find((u) => u.key.endsWith(path.basename(batches[0]!.file)));
      assert.ok(resumed && resumed.resumed_parts >= 1, JSON.stringify(uploaded));
      assert.equal(
        readFileSync(path.join(ledger, "uploads.jsonl"), "utf8")
          .split("\n")
          .filter((l) => l.includes(path.basename(batches[0]!.file))).length,
        1,
        "recorded once",
      );
    });
  });
});
