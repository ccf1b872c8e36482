import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest } from "../../node/batches/manifest.js";
import type { BatchReady } from "../../node/generated/payloads.js";
import { startMosquitto } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode } from "../helpers/node.js";

describe("broker outage during a session", () => {
  it("the manifest keeps growing while the broker is away; queued events arrive in order after it returns", async () => {
    let broker = await startMosquitto();
    const port = broker.port;
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const run = await startNode({ broker_url: broker.url, sbc_id: "OUT1", batch_duration: 1 });
    const manifest = path.join(run.dataDir, "out", "manifest.jsonl");
    try {
      assert.equal((await rec.command("labx", "OUT1", "OUT1", { cmd: "start", session: "out" })).ok, true);
      await rec.waitFor(() => rec.jsonOn("labx/OUT1/batch")[0], 20_000, "first batch");
      await broker.stop();
      const before = readManifest(manifest).length;
      await new Promise((r) => setTimeout(r, 4000));
      const during = readManifest(manifest).length;
      assert.ok(
        during >= before + 3,
        `manifest grew from ${before} to ${during} lines while the broker was down`,
      );
      const onlineBefore = rec.on("labx/OUT1/availability").filter((m) => m.text === "online").length;
      broker = await startMosquitto(port);
      // The recorder reconnects in 200 ms, the node within its 2 s reconnect period, so nothing is
      // published before the subscription is back (mosquitto keeps no sessions across a restart).
      // A controller waits for the node's `online`, which it sends once it is listening again.
      await rec.waitFor(
        () =>
          rec.on("labx/OUT1/availability").filter((m) => m.text === "online").length > onlineBefore
            ? true
            : undefined,
        30_000,
        "online again",
      );
      await rec.waitFor(
        () => (rec.jsonOn<BatchReady>("labx/OUT1/batch").some((b) => b.seq >= during) ? true : undefined),
        30_000,
        "batches recorded during the outage",
      );
      assert.equal((await rec.command("labx", "OUT1", "OUT1", { cmd: "stop" })).ok, true);
      const announced = rec.jsonOn<BatchReady>("labx/OUT1/batch");
      const seqs = announced.map((b) => b.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        "in order",
      );
      assert.deepEqual(announced, readManifest(manifest), "every manifest line announced exactly once");
    } finally {
      await run.stop();
      await rec.close();
      await broker.stop();
    }
  });
});
