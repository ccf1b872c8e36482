import assert from "node:assert/strict";
import { describe, it } from "node:test";
import mqtt from "mqtt";
import { startAedes } from "../helpers/aedes.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode } from "../helpers/node.js";

// A node on the embedded broker (aedes 2, MQTT 5 and 3.1.1): the node negotiates MQTT 5; replies carry
// the Correlation Data; retained availability and state reach late subscribers of either version.

describe("a node on the embedded broker speaks MQTT 5; clients of both versions see the same", () => {
  it("MQTT 5 negotiated, correlation data on the reply and the Response Topic, retained values for 5 and 3.1.1 alike", async () => {
    const broker = await startAedes();
    const run = await startNode({
      broker_url: broker.url,
      sbc_id: "V5",
      disable_sync: true,
      preview_interval: 0,
    });
    const clients: mqtt.MqttClient[] = [];
    try {
      const v5 = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(v5);
      const heard: { topic: string; corr?: string; text: string }[] = [];
      v5.on("message", (topic, payload, packet) =>
        heard.push({ topic, text: payload.toString(), corr: packet.properties?.correlationData?.toString() }),
      );
      await v5.subscribeAsync(["labx/V5/reply", "my/replies"], { qos: 1 });
      await v5.publishAsync("labx/V5/cmd", JSON.stringify({ cmd: "status", id: "c5" }), {
        qos: 1,
        properties: { responseTopic: "my/replies", correlationData: Buffer.from("corr-5") },
      });
      for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      const reply = heard.find((h) => h.topic === "labx/V5/reply");
      const response = heard.find((h) => h.topic === "my/replies");
      // The node adds Correlation Data only on an MQTT 5 connection: it negotiated 5 with the embedded broker.
      assert.equal(response?.corr, "corr-5", JSON.stringify(heard));
      assert.equal(JSON.parse(reply!.text).id, "c5", "and answered on its reply topic as well");
      assert.equal(JSON.parse(response.text).id, "c5");

      // Late subscribers of each version get the same retained availability and state.
      for (const version of [5, 4] as const) {
        const late = await MqttRecorder.connect(
          broker.url,
          ["labx/V5/availability", "labx/V5/state"],
          version,
        );
        try {
          await late.waitFor(() => late.on("labx/V5/availability")[0], 5000, `availability (v${version})`);
          await late.waitFor(() => late.on("labx/V5/state")[0], 5000, `state (v${version})`);
          assert.equal(late.on("labx/V5/availability")[0]!.text, "online");
          assert.equal(late.on("labx/V5/availability")[0]!.retain, true);
          assert.equal(late.jsonOn<{ state: string }>("labx/V5/state")[0]!.state, "idle");
        } finally {
          await late.close();
        }
      }
    } finally {
      for (const c of clients) await c.endAsync();
      await run.stop();
      await broker.stop();
    }
  });

  it("a session resumed without Clean Start gets the messages queued while it was away, whatever expiry the new CONNECT asks (patches/aedes+2.0.0-beta.1)", async () => {
    const broker = await startAedes();
    const clients: mqtt.MqttClient[] = [];
    try {
      const opts = { protocolVersion: 5 as const, reconnectPeriod: 0, clientId: "collector", clean: false };
      const first = await mqtt.connectAsync(broker.url, {
        ...opts,
        properties: { sessionExpiryInterval: 300 },
      });
      await first.subscribeAsync("labx/+/batch", { qos: 1 });
      await first.endAsync();
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(pub);
      for (const seq of [0, 1, 2])
        await pub.publishAsync("labx/N1/batch", JSON.stringify({ seq }), { qos: 1 });
      // Back with Clean Start 0 and no Session Expiry Interval (as Home Assistant's and many clients' defaults).
      const got: number[] = [];
      const again = mqtt.connect(broker.url, { ...opts, manualConnect: true });
      clients.push(again);
      again.on("message", (_t, payload) => got.push((JSON.parse(payload.toString()) as { seq: number }).seq));
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        again.once("connect", resolve);
        again.once("error", reject);
        again.connect();
      });
      assert.equal(connack.sessionPresent, true);
      for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got, [0, 1, 2], "the queued batches");
    } finally {
      for (const c of clients) await c.endAsync(true);
      await broker.stop();
    }
  });

  it("a client's Maximum Packet Size binds the broker: a larger message is not sent to it, but to others", async () => {
    const broker = await startAedes();
    const clients: mqtt.MqttClient[] = [];
    try {
      const receive = async (properties: mqtt.IClientOptions["properties"]) => {
        const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, properties });
        clients.push(c);
        const sizes: number[] = [];
        c.on("message", (_t, payload) => sizes.push(payload.length));
        await c.subscribeAsync("cam/preview", { qos: 1 });
        return sizes;
      };
      const small = await receive({ maximumPacketSize: 1000 });
      const any = await receive({});
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(pub);
      for (const n of [500, 5000, 600]) await pub.publishAsync("cam/preview", Buffer.alloc(n, 7), { qos: 1 });
      for (let i = 0; i < 100 && any.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(any, [500, 5000, 600]);
      assert.deepEqual(
        small,
        [500, 600],
        "the 5000-byte message is not sent to a client of 1000 bytes at most",
      );
    } finally {
      for (const c of clients) await c.endAsync(true);
      await broker.stop();
    }
  });
});
