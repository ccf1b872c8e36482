import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import type { SessionSummary } from "../../align/summary.js";
import { readManifest } from "../../node/data/manifest.js";
import { startAedes } from "../helpers/aedes.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { backlogEmpty, client, withCredentials } from "../helpers/s3.js";
import { startSwift, type SwiftStore } from "../helpers/swift.js";

// The researcher's side of the store: two nodes upload one session (one at) to a real Swift (s3api);
// labx fetch brings it back verified and resumes, and labx align indexes it straight from the store.

describe("labx fetch and labx align --from s3://", () => {
  it("fetches every node's files verified, keeps what is right, continues a partial file, fetches a corrupted one again; align reads the store", async () => {
    let store: SwiftStore | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    const nodes: RunningNode[] = [];
    try {
      store = await startSwift();
      const s3 = client(store);
      await s3.send(new CreateBucketCommand({ Bucket: "labx" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      for (const id of ["F1", "F2"])
        nodes.push(
          await withCredentials(store, () =>
            startNode({
              broker_url: broker!.url,
              sbc_id: id,
              video_size: "640x480",
              disable_sync: true,
              upload_url: "s3://labx/exp",
              upload_endpoint: store!.endpoint,
            }),
          ),
        );
      const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString();
      await mq.publish(
        "labx/all/cmd",
        JSON.stringify({ cmd: "start", session: "field", at, batch_duration: 2, duration: 4 }),
      );
      for (const id of ["F1", "F2"]) {
        await mq.waitFor(
          () => mq.jsonOn<NodeEvent>(`labx/${id}/event`).find((e) => e.type === "session_ended"),
          30_000,
          `${id} end`,
        );
        await mq.waitFor(() => backlogEmpty(mq, id), 60_000, `${id} uploaded`);
      }
      const env = {
        AWS_ACCESS_KEY_ID: store.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
      };
      const to = tempDir();
      let said = "";
      const fetch = async (): Promise<string> => {
        const cli = runCli(
          ["fetch", "field", "--from", "s3://labx/exp", "--to", to, "--endpoint", store!.endpoint],
          env,
        );
        const { code } = await cli.exited;
        assert.equal(code, 0, cli.stderr());
        said = cli.stderr();
        return cli.stdout();
      };
      const first = await fetch();
      assert.match(first, /of 2 nodes \(F1, F2\)/);
      assert.match(first, /0 already there/);
      const local = (n: number, name: string): string => path.join(nodes[n]!.dataDir, "field", name);
      const fetched = (id: string, name: string): string => path.join(to, id, "field", name);
      for (const [n, id] of ["F1", "F2"].entries())
        for (const b of readManifest(local(n, "manifest.jsonl"))) {
          const name = path.basename(b.file);
          assert.deepEqual(readFileSync(fetched(id, name)), readFileSync(local(n, name)), `${id}/${name}`);
          assert.deepEqual(
            readFileSync(fetched(id, path.basename(b.frames_file))),
            readFileSync(local(n, path.basename(b.frames_file))),
          );
        }
      // A corrupted file (same size) and a download cut short (its .part): fetched again, continued.
      const batches = readManifest(local(0, "manifest.jsonl"));
      const bad = fetched("F1", path.basename(batches[0]!.file));
      const bytes = readFileSync(bad);
      bytes[100] = bytes[100]! ^ 0xff;
      writeFileSync(bad, bytes);
      const cut = fetched("F1", path.basename(batches[1]!.file));
      copyFileSync(cut, `${cut}.part`);
      truncateSync(`${cut}.part`, Math.floor(statSync(cut).size / 3));
      rmSync(cut);
      // Keys that would land outside --to (every node holds upload credentials: the store is not trusted).
      const hostile = ["exp/../field/evil.txt", "exp/F1/field/..", "exp/all/field/evil.txt"];
      for (const Key of hostile) await s3.send(new PutObjectCommand({ Bucket: "labx", Key, Body: "evil" }));
      const second = await fetch();
      assert.match(second, /: 2 fetched/, second);
      assert.ok(!existsSync(path.join(path.dirname(to), "field", "evil.txt")), "written outside --to");
      assert.ok(!existsSync(path.join(to, "all")), "a reserved name taken as a node");
      assert.deepEqual(
        readFileSync(bad),
        readFileSync(local(0, path.basename(batches[0]!.file))),
        "corrupted one fetched again",
      );
      assert.deepEqual(
        readFileSync(cut),
        readFileSync(local(0, path.basename(batches[1]!.file))),
        "cut one completed",
      );
      assert.ok(!existsSync(`${cut}.part`));
      for (const key of hostile) assert.ok(said.includes(`skipped ${JSON.stringify(key)}`), said);
      // A manifest line in the store that names a file outside its session: align skips it and says so.
      const manifestKey = "exp/F2/field/manifest.jsonl";
      const manifest = readFileSync(local(1, "manifest.jsonl"), "utf8");
      const forged = {
        ...JSON.parse(manifest.split("\n")[0]!),
        seq: 99,
        frames_file: "field/../../x.frames.csv",
      };
      await s3.send(
        new PutObjectCommand({
          Bucket: "labx",
          Key: manifestKey,
          Body: manifest + JSON.stringify(forged) + "\n",
        }),
      );
      // align straight from the store.
      const out = tempDir();
      const cli = runCli(
        ["align", "field", "--from", "s3://labx/exp", "--out", out, "--endpoint", store.endpoint, "--json"],
        env,
      );
      assert.equal((await cli.exited).code, 0, cli.stderr());
      assert.match(cli.stderr(), /labx align: skipped: .*batch line \d+/);
      const summary = JSON.parse(cli.stdout()) as SessionSummary;
      assert.deepEqual(Object.keys(summary.nodes), ["F1", "F2"]);
      assert.equal(summary.pairs.length, 1);
      assert.ok(summary.pairs[0]!.p99_ms < 1000 / 30, JSON.stringify(summary.pairs[0]));
      s3.destroy();
    } finally {
      for (const n of nodes) await n.stop();
      await rec?.close();
      await broker?.stop();
      await store?.stop();
    }
  });
});
