import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { ROOT, startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { freePort } from "../helpers/ports.js";

const FLOW = path.join(ROOT, "docs", "node-red", "labx-flow.json");

function nodeRedMain(): string | null {
  try {
    return createRequire(import.meta.url).resolve("node-red/red.js");
  } catch {
    return null;
  }
}

// Node-RED itself (a dev dependency), headless, with the flow from docs/node-red/ as its flows file,
// against mosquitto and two real labx nodes. Its inject buttons are pressed through its admin HTTP API.
describe(
  "the Node-RED flow in docs/node-red",
  { skip: nodeRedMain() ? false : "node-red is not installed" },
  () => {
    let broker: Broker;
    let rec: MqttRecorder;
    const nodes: RunningNode[] = [];
    let red: ChildProcess | undefined;
    let redLog = "";
    let adminUrl = "";
    const csv = path.join(tempDir(), "batches.csv");

    const press = async (id: string): Promise<void> => {
      const res = await fetch(`${adminUrl}/inject/${id}`, { method: "POST" });
      assert.equal(res.status, 200, `inject ${id}: ${res.status} ${await res.text()}`);
    };
    const states = (id: string) => rec.jsonOn<NodeState>(`labx/${id}/state`);

    before(async () => {
      broker = await startMosquitto();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      for (const id of ["NR1", "NR2"])
        nodes.push(
          await startNode({
            broker_url: broker.url,
            sbc_id: id,
            groups: ["rig"],
            disable_sync: true,
            batch_duration: 1,
          }),
        );
      nodes.push(
        await startNode({ broker_url: broker.url, sbc_id: "NR3", groups: ["other"], disable_sync: true }),
      );
      const userDir = tempDir();
      copyFileSync(FLOW, path.join(userDir, "flows.json"));
      const port = await freePort();
      adminUrl = `http://127.0.0.1:${port}`;
      red = spawn(
        process.execPath,
        [nodeRedMain()!, "--port", String(port), "--userDir", userDir, "flows.json"],
        {
          env: {
            ...process.env,
            LABX_MQTT_HOST: "127.0.0.1",
            LABX_MQTT_PORT: String(broker.port),
            LABX_GROUP: "rig",
            LABX_SESSION: "nodered",
            LABX_BATCH_LOG: csv,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      red.stdout!.on("data", (d: Buffer) => (redLog += d.toString()));
      red.stderr!.on("data", (d: Buffer) => (redLog += d.toString()));
      // Ready once its MQTT client is connected (it logs "Connected to broker").
      for (let i = 0; i < 120 && !/Connected to broker/.test(redLog); i++)
        await new Promise((r) => setTimeout(r, 250));
      assert.match(redLog, /Connected to broker/, redLog);
    });
    after(async () => {
      if (red && red.exitCode === null) {
        red.kill("SIGINT");
        await new Promise((r) => red!.once("exit", r));
      }
      for (const n of nodes) await n.stop();
      await rec?.close();
      await broker?.stop();
    });

    it("Start group starts every node of the group (and no other), batches are listed once each, Stop group stops them", async (t) => {
      await press("labx_start");
      for (const id of ["NR1", "NR2"])
        await rec.waitFor(
          () => states(id).find((s) => s.state === "recording" && s.session === "nodered"),
          20_000,
          `${id} recording`,
        );
      const batches = () => [
        ...rec.jsonOn<BatchReady>("labx/NR1/batch"),
        ...rec.jsonOn<BatchReady>("labx/NR2/batch"),
      ];
      await rec.waitFor(() => (batches().length >= 4 ? true : undefined), 30_000, "batches from both nodes");
      await press("labx_stop");
      for (const id of ["NR1", "NR2"])
        await rec.waitFor(
          () => (states(id).at(-1)?.state === "idle" ? true : undefined),
          20_000,
          `${id} idle`,
        );
      const announced = await rec.waitFor(
        () => {
          const all = batches();
          return all.filter((b) => b.last).length === 2 ? all : undefined;
        },
        20_000,
        "both last batches",
      );
      assert.ok(!states("NR3").some((s) => s.state === "recording"), "NR3 is not in group rig");

      // The flow's list: one CSV line per announced batch, in the flow's own words.
      const expected = announced
        .map((b) => [b.node, b.session, b.seq, b.file, b.start, b.end, b.frames].join(","))
        .sort();
      await rec.waitFor(
        () =>
          existsSync(csv) && readFileSync(csv, "utf8").trim().split("\n").length >= expected.length
            ? true
            : undefined,
        10_000,
        "the CSV",
      );
      const lines = readFileSync(csv, "utf8").trim().split("\n").sort();
      assert.deepEqual(lines, expected);
      t.diagnostic(`${lines.length} batches listed by the flow, e.g. ${lines[0]}`);
      assert.doesNotMatch(redLog, /\[error\]/, redLog);
    });
  },
);
