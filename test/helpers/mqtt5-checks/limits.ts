import assert from "node:assert/strict";
import type { IPublishPacket, Packet } from "mqtt-packet";
import { type WireClient, wireClient } from "../mqtt-wire.js";
import { type Check, open, topicOf, until, withClients } from "./kit.js";

// What each side may send the other: topic aliases, packet size, keepalive, and flow control
// (MQTT 5 §3.1.2.11, §3.2.2.3, §3.3.2.3.4, §4.9). Written packet by packet where MQTT.js would answer
// on its own.

const connect = (clientId: string, properties: object = {}): Packet => ({
  cmd: "connect",
  protocolId: "MQTT",
  protocolVersion: 5,
  clean: true,
  clientId,
  keepalive: 0,
  properties,
});

async function expect(c: WireClient, cmd: Packet["cmd"], ms?: number): Promise<Packet> {
  const p = await c.next(ms);
  assert.equal(p?.cmd, cmd, `expected ${cmd}, got ${p ? p.cmd : "nothing"}`);
  return p!;
}

/** A wire client, connected (CONNACK read) with `properties`; closed when `body` ends. */
async function withWire<T>(
  port: number,
  name: string,
  properties: object,
  body: (w: WireClient, connack: Packet) => Promise<T>,
) {
  const w = await wireClient(port);
  try {
    w.send(connect(`conf-${name}-${process.pid}`, properties));
    return await body(w, await expect(w, "connack"));
  } finally {
    w.close();
  }
}

const publish = (
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  messageId?: number,
  properties?: object,
): Packet => ({
  cmd: "publish",
  topic,
  payload,
  qos,
  retain: false,
  dup: false,
  ...(messageId ? { messageId } : {}),
  ...(properties ? { properties } : {}),
});

const text = (p: Packet) => String((p as IPublishPacket).payload);

export const limitChecks: Check[] = [
  {
    name: "client_topic_alias",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("alias");
        const watcher = await open(port, {}, c);
        await watcher.client.subscribeAsync(t, { qos: 1 });
        await withWire(port, "alias", {}, async (w) => {
          w.send(publish(t, "named", 1, 1, { topicAlias: 1 }));
          await expect(w, "puback");
          w.send(publish("", "by alias", 1, 2, { topicAlias: 1 }));
          await expect(w, "puback");
        });
        assert.ok(await until(() => watcher.messages.length === 2));
        assert.deepEqual(
          watcher.messages.map((m) => [m.topic, m.payload]),
          [
            [t, "named"],
            [t, "by alias"],
          ],
        );
        await withWire(port, "alias0", {}, async (w) => {
          w.send(publish(t, "alias 0", 1, 1, { topicAlias: 0 }));
          const d = await expect(w, "disconnect");
          assert.equal((d as { reasonCode?: number }).reasonCode, 0x94, "Topic Alias invalid");
        });
      }),
  },
  {
    name: "server_topic_alias",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("serveralias");
        const pub = await open(port, {}, c);
        await withWire(port, "serveralias", { topicAliasMaximum: 2 }, async (w) => {
          w.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: t, qos: 0 }] });
          await expect(w, "suback");
          for (const n of [1, 2, 3]) await pub.client.publishAsync(t, `m${n}`, { qos: 0 });
          const got = [await expect(w, "publish"), await expect(w, "publish"), await expect(w, "publish")];
          const aliased = got.filter((p) => (p as IPublishPacket).properties?.topicAlias !== undefined);
          assert.ok(aliased.length > 0, "the broker uses the topic aliases the client allows");
        });
      }),
  },
  {
    name: "maximum_packet_size",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("maxsize");
        const small = await open(port, { properties: { maximumPacketSize: 300 } }, c);
        await small.client.subscribeAsync(t, { qos: 1 });
        for (const n of [50, 1000, 60]) await small.client.publishAsync(t, "x".repeat(n), { qos: 1 });
        assert.ok(await until(() => small.messages.length === 2));
        assert.deepEqual(
          small.messages.map((m) => m.payload.length),
          [50, 60],
          "none over its maximum [MQTT-3.1.2-24]",
        );
      }),
  },
  {
    name: "server_keep_alive",
    run: (port) =>
      withWire(port, "serverkeepalive", {}, async (_w, connack) => {
        const keepAlive = (connack as { properties?: { serverKeepAlive?: number } }).properties
          ?.serverKeepAlive;
        assert.ok(keepAlive !== undefined, "a client asking for no keepalive is given the server's");
      }),
  },
  {
    name: "flow_control1",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("flow1");
        const pub = await open(port, {}, c);
        await withWire(port, "flow1", { receiveMaximum: 2 }, async (w) => {
          w.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: t, qos: 1 }] });
          await expect(w, "suback");
          for (const n of [1, 2, 3, 4]) await pub.client.publishAsync(t, `m${n}`, { qos: 1 });
          const [first, second] = [await expect(w, "publish"), await expect(w, "publish")];
          assert.deepEqual([text(first), text(second)], ["m1", "m2"]);
          assert.equal(await w.next(700), null, "no third while 2 are unacknowledged [MQTT-4.9.0-2]");
          await pub.client.publishAsync(t, "q0", { qos: 0 });
          assert.equal(text(await expect(w, "publish")), "q0", "QoS 0 is not held");
          w.send({ cmd: "puback", messageId: (first as IPublishPacket).messageId });
          const third = await expect(w, "publish");
          assert.equal(text(third), "m3");
          assert.equal(await w.next(500), null, "still 2 in flight");
          for (const p of [second, third])
            w.send({ cmd: "puback", messageId: (p as IPublishPacket).messageId });
          assert.equal(text(await expect(w, "publish")), "m4", "the held messages keep their order");
        });
      }),
  },
  {
    name: "flow_control2",
    run: async (port) => {
      const t = topicOf("flow2");
      await withWire(port, "flow2", {}, async (w, connack) => {
        const most =
          (connack as { properties?: { receiveMaximum?: number } }).properties?.receiveMaximum ?? 65535;
        assert.ok(most < 1000, `a broker Receive Maximum this check can exceed (${most})`);
        for (let id = 1; id <= most + 1; id++) w.send(publish(t, "x", 2, id));
        let p: Packet | null;
        while ((p = await w.next()) && p.cmd !== "disconnect");
        assert.equal((p as { reasonCode?: number } | null)?.reasonCode, 0x93, "Receive Maximum exceeded");
      });
      // the ended session took its unreleased messages along: the same id's new message 1 is no duplicate
      await withWire(port, "flow2", {}, async (w) => {
        w.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: t, qos: 0 }] });
        await expect(w, "suback");
        w.send(publish(t, "new", 2, 1));
        const got = [await w.next(), await w.next()].map((q) => q?.cmd).sort();
        assert.deepEqual(got, ["publish", "pubrec"], "the new message is published [MQTT-4.1.0-2]");
        w.send({ cmd: "pubrel", messageId: 1 });
        await expect(w, "pubcomp");
      });
    },
  },
];
