import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest } from "../../node/data/manifest.js";
import { uniqueBatches } from "../helpers/delivery.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";

describe("broker outage during a session", () => {
  it("the manifest keeps growing while the broker is away; queued events arrive in order after it returns", async (t) => {
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      broker = await startMosquitto();
      const port = broker.port;
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({ broker_url: broker.url, sbc_id: "OUT1", batch_duration: 1 });
      const manifest = path.join(run.dataDir, "out", "manifest.jsonl");
      assert.equal((await rec.command("labx", "OUT1", "OUT1", { cmd: "start", session: "out" })).ok, true);
      await rec.waitFor(() => rec!.jsonOn("labx/OUT1/batch")[0], 20_000, "first batch");
      await broker.stop();
      broker = undefined;
      // Recording does not wait for the broker: the manifest grows while there is none.
      const before = readManifest(manifest).length;
      await rec.waitFor(
        () => (readManifest(manifest).length >= before + 3 ? true : undefined),
        30_000,
        "three batches recorded with no broker",
      );
      const during = readManifest(manifest).length;
      const onlineBefore = rec.on("labx/OUT1/availability").filter((m) => m.text === "online").length;
      broker = await startMosquitto(port);
      // The recorder reconnects in 200 ms, the node within its 2 s reconnect period, so nothing is
      // published before the subscription is back (mosquitto keeps no sessions across a restart).
      // A controller waits for the node's `online`, which it sends once it is listening again.
      await rec.waitFor(
        () =>
          rec!.on("labx/OUT1/availability").filter((m) => m.text === "online").length > onlineBefore
            ? true
            : undefined,
        30_000,
        "online again",
      );
      await rec.waitFor(
        () => (uniqueBatches(rec!, "OUT1").batches.some((b) => b.seq >= during) ? true : undefined),
        30_000,
        "batches recorded during the outage",
      );
      assert.equal((await rec.command("labx", "OUT1", "OUT1", { cmd: "stop" })).ok, true);
      // QoS 1: a message the broker took just before it stopped may come twice (same session + seq).
      const { batches, duplicates } = uniqueBatches(rec, "OUT1");
      assert.deepEqual(batches, readManifest(manifest), "every manifest line announced, in order");
      t.diagnostic(`${batches.length} batches, ${duplicates} duplicates`);
    } finally {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
