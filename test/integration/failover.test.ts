// Several brokers: three nodes record while the member of a three-member NATS cluster they are all
// connected to is killed with -9. Real components only: nats-server (JetStream, MQTT 3.1.1), the
// nodes' real ffmpeg, `labx watch`, `labx monitor` and `labx stop` as real processes given the same member list.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { readManifest } from "../../node/data/manifest.js";
import { parseBrokerList } from "../../platform/mqtt/broker-list.js";
import { quantile } from "../../align/stats.js";
import { uniqueBatches } from "../helpers/delivery.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNatsCluster, type NatsCluster } from "../helpers/nats-cluster.js";
import { runCli, startNode, tempDir, type CliProcess, type RunningNode } from "../helpers/node.js";

const NODES = ["FO1", "FO2", "FO3"];

interface WatchLine {
  at: string;
  nodes: {
    node: string;
    availability: string | null;
    state: { state: string } | null;
    lastBatch: BatchReady | null;
  }[];
}

describe("several brokers: a cluster member dies mid-session", () => {
  it("three recording nodes move to the survivors: every batch event reaches a persistent subscriber, commands reach every node, labx watch shows the fleet", async (t) => {
    let cluster: NatsCluster | undefined;
    let archive: MqttRecorder | undefined;
    let observer: MqttRecorder | undefined;
    let watch: CliProcess | undefined;
    let monitor: CliProcess | undefined;
    const nodes: RunningNode[] = [];
    try {
      cluster = await startNatsCluster(3);
      // Everyone starts on member 1, the one that dies.
      const list = cluster.urls([0, 1, 2]);
      const servers = parseBrokerList(list).members;
      // The lab's archive: a persistent session (QoS 1, clean false) kept by the cluster while its
      // client moves from the dead member to a survivor.
      archive = await MqttRecorder.connect(list.split(",")[0]!, ["labx/+/batch"], 4, {
        clean: false,
        clientId: "labx-test-archive",
        servers,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        reconnectOnConnackError: true,
      });
      // An observer on a survivor times each node's return (its `online` after the kill).
      observer = await MqttRecorder.connect(
        cluster.members[1]!.url,
        ["labx/+/availability", "labx/+/state", "labx/+/clock", "labx/fleet/clock"],
        4,
      );
      for (const id of NODES)
        nodes.push(await startNode({ broker_url: list, sbc_id: id, batch_duration: 1 }));
      const online = (id: string, after = 0): boolean =>
        observer!.on(`labx/${id}/availability`).some((m) => m.text === "online" && m.at > after);
      await observer.waitFor(
        () => (NODES.every((id) => online(id)) ? true : undefined),
        30_000,
        "nodes online",
      );
      watch = runCli(["watch", "--json", "--broker-url", list]);
      monitor = runCli(["monitor", "--broker-url", list, "--data-dir", tempDir(), "--ui-port", "0"]);

      const start = runCli(["start", "--session", "fo", "--broker-url", list]);
      assert.equal((await start.exited).code, 0, start.stderr());
      const batchesOf = (id: string): BatchReady[] => uniqueBatches(archive!, id).batches;
      await archive.waitFor(
        () => (NODES.every((id) => batchesOf(id).length >= 2) ? true : undefined),
        30_000,
        "two batches from every node",
      );

      const killedAt = Date.now();
      await cluster.members[0]!.kill();
      const seqAtKill = Object.fromEntries(NODES.map((id) => [id, batchesOf(id).at(-1)!.seq]));
      await observer.waitFor(
        () => (NODES.every((id) => online(id, killedAt)) ? true : undefined),
        90_000,
        "every node online again on a survivor",
      );
      const reconnectMs = NODES.map(
        (id) =>
          observer!.on(`labx/${id}/availability`).find((m) => m.text === "online" && m.at > killedAt)!.at -
          killedAt,
      ).sort((a, b) => a - b);
      // Each node said its state and clock again on the survivor it reached.
      for (const id of NODES)
        for (const leaf of ["state", "clock"])
          await observer.waitFor(
            () => (observer!.on(`labx/${id}/${leaf}`).some((m) => m.at > killedAt) ? true : undefined),
            10_000,
            `${id}: ${leaf} published again after the failover`,
          );
      // The monitor, given the same list, publishes the fleet's clock figures from a survivor.
      await observer.waitFor(
        () => (observer!.on("labx/fleet/clock").some((m) => m.at > killedAt) ? true : undefined),
        30_000,
        "labx monitor's fleet clock after the failover",
      );
      // Batches recorded after the kill reach the archive.
      await archive.waitFor(
        () => (NODES.every((id) => batchesOf(id).some((b) => b.seq > seqAtKill[id]! + 2)) ? true : undefined),
        90_000,
        "batches after the failover",
      );

      // labx watch, given the same list, showed the fleet through the failover.
      const seen = await archive.waitFor(
        () =>
          watch!
            .stdout()
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as WatchLine)
            .find(
              (w) =>
                Date.parse(w.at) > killedAt &&
                NODES.every((id) => {
                  const n = w.nodes.find((v) => v.node === id);
                  return (
                    n?.availability === "online" &&
                    n.state?.state === "recording" &&
                    (n.lastBatch?.seq ?? -1) > seqAtKill[id]!
                  );
                }),
            ),
        30_000,
        "labx watch showing every node recording after the failover",
      );
      assert.ok(seen);

      // Commands still reach every node: `labx stop` with the dead member first in its list.
      // A stop's reply comes once the node's last batch is listed; the cluster may still be settling.
      const stop = runCli(["stop", "--broker-url", list, "--json", "--timeout", "30"]);
      assert.equal((await stop.exited).code, 0, `${stop.stdout()}\n${stop.stderr()}`);

      // Every line of every manifest reached the archive: nothing lost.
      let duplicates = 0;
      for (const [i, id] of NODES.entries()) {
        const manifest = readManifest(path.join(nodes[i]!.dataDir, "fo", "manifest.jsonl"));
        const got: ReturnType<typeof uniqueBatches> = await archive.waitFor(
          () => {
            const u = uniqueBatches(archive!, id);
            return u.batches.length >= manifest.length ? u : undefined;
          },
          60_000,
          `${id}: every batch of its manifest in the archive`,
        );
        duplicates += got.duplicates;
        assert.deepEqual(
          [...got.batches].sort((a, b) => a.seq - b.seq),
          manifest,
          `${id}: the archive holds each batch of the manifest once`,
        );
        assert.ok(manifest.at(-1)!.last, `${id}: the session ended on the stop`);
      }
      // A node started now, its list still beginning with the dead member, comes online on a survivor.
      const lateStart = Date.now();
      nodes.push(await startNode({ broker_url: list, sbc_id: "FO4", batch_duration: 1 }));
      await observer.waitFor(
        () => (online("FO4") ? true : undefined),
        60_000,
        "FO4 online past the dead member",
      );
      t.diagnostic(`a node started with the dead member first: online in ${Date.now() - lateStart} ms`);
      t.diagnostic(
        `failover: reconnect p50 ${quantile(reconnectMs, 0.5)} ms, max ${reconnectMs.at(-1)} ms (${reconnectMs.join(", ")}); events lost 0; duplicates ${duplicates}`,
      );
    } finally {
      for (const p of [watch, monitor]) {
        p?.child.kill("SIGTERM");
        await p?.exited;
      }
      for (const n of nodes) await n.stop();
      await archive?.close();
      await observer?.close();
      await cluster?.stop();
    }
  });
});
