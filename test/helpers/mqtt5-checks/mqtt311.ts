import assert from "node:assert/strict";
import type { IPublishPacket } from "mqtt-packet";
import type mqtt from "mqtt";
import { wireClient } from "../mqtt-wire.js";
import { type Check, open as open5, type Opened, sleep, topicOf, until, withClients } from "./kit.js";

// The MQTT 3.1.1 checks, one per test of Eclipse Paho's client_test.py but subscribe_failure (a broker
// configured to refuse one filter), written from the 3.1.1 specification: the gate's second half.

const open = (port: number, opts: mqtt.IClientOptions, c: Opened[]) =>
  open5(port, { protocolVersion: 4, ...opts }, c);
const id = (check: string) => `conf311-${check}-${process.pid}`;
const topic = (check: string, leaf = "t") => topicOf(`v311-${check}`, leaf);
const payloads = (o: { messages: { payload: string }[] }) => o.messages.map((m) => m.payload);

export const mqtt311Checks: Check[] = [
  {
    name: "basic",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topic("basic"), { qos: 2 });
        for (const qos of [0, 1, 2] as const)
          await a.client.publishAsync(topic("basic"), `qos ${qos}`, { qos });
        assert.ok(await until(() => a.messages.length === 3), "three messages back");
        assert.deepEqual(payloads(a).sort(), ["qos 0", "qos 1", "qos 2"]);
      }),
  },
  {
    name: "retained_messages",
    run: (port) =>
      withClients(async (c) => {
        const pub = await open(port, {}, c);
        for (const qos of [0, 1, 2] as const)
          await pub.client.publishAsync(topic("retained", `q${qos}`), `r${qos}`, { qos, retain: true });
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topic("retained", "#"), { qos: 2 });
        assert.ok(await until(() => a.messages.length === 3), "three retained messages");
        assert.ok(
          a.messages.every((m) => m.packet.retain),
          "each with its retain flag [MQTT-3.3.1-8]",
        );
        for (const qos of [0, 1, 2] as const)
          await pub.client.publishAsync(topic("retained", `q${qos}`), "", { qos, retain: true });
        const b = await open(port, {}, c);
        await b.client.subscribeAsync(topic("retained", "#"), { qos: 2 });
        await sleep(500);
        assert.equal(b.messages.length, 0, "an empty retained message clears it [MQTT-3.3.1-10]");
      }),
  },
  {
    name: "offline_message_queueing",
    run: (port) =>
      withClients(async (c) => {
        const session = { clientId: id("offline"), clean: false };
        const a = await open(port, session, c);
        await a.client.subscribeAsync(topic("offline"), { qos: 2 });
        await a.client.endAsync();
        const pub = await open(port, {}, c);
        for (const qos of [0, 1, 2] as const)
          await pub.client.publishAsync(topic("offline"), `q${qos}`, { qos });
        const back = await open(port, session, c);
        assert.equal(back.connack.sessionPresent, true, "[MQTT-3.2.2-2]");
        assert.ok(await until(() => back.messages.length >= 2), "QoS 1 and 2 messages were queued");
        assert.ok(["q1", "q2"].every((p) => back.messages.some((m) => m.payload === p)));
        await back.client.endAsync();
        // A clean session discards it [MQTT-3.1.2-6].
        const clean = await open(port, { clientId: id("offline"), clean: true }, c);
        assert.equal(clean.connack.sessionPresent, false);
      }),
  },
  {
    name: "will_message",
    run: (port) =>
      withClients(async (c) => {
        const t = topic("will");
        const b = await open(port, {}, c);
        await b.client.subscribeAsync(t, { qos: 2 });
        const a = await open(
          port,
          { will: { topic: t, payload: Buffer.from("gone"), qos: 1, retain: false } },
          c,
        );
        const polite = await open(
          port,
          { will: { topic: t, payload: Buffer.from("never"), qos: 1, retain: false } },
          c,
        );
        await polite.client.endAsync(); // DISCONNECT: its will is discarded [MQTT-3.14.4-3]
        a.client.stream.destroy();
        assert.ok(await until(() => b.messages.length >= 1), "the will of a lost connection is published");
        await sleep(300);
        assert.deepEqual(payloads(b), ["gone"]);
      }),
  },
  {
    name: "zero_length_clientid",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, { clientId: "", clean: true }, c);
        assert.equal(a.connack.returnCode, 0, "accepted with a clean session [MQTT-3.1.3-7]");
        const wire = await wireClient(port, 4);
        try {
          // CONNECT, MQTT 3.1.1, Clean Session 0, keepalive 0, an empty client id (mqtt-packet will not encode it).
          wire.sendRaw(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 0, 0, 0]));
          const ack = await wire.next();
          // [MQTT-3.1.3-8]: CONNACK 0x02 (identifier rejected), then the connection is closed
          assert.deepEqual([ack?.cmd, (ack as { returnCode?: number } | null)?.returnCode], ["connack", 2]);
          assert.equal(await wire.next(), null);
          assert.ok(wire.closed, "closed after the refusal");
        } finally {
          wire.close();
        }
      }),
  },
  {
    name: "dollar_topics",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync("#", { qos: 1 });
        await sleep(300);
        a.messages.length = 0;
        const pub = await open(port, {}, c);
        await pub.client.publishAsync(`$conformance311/${process.pid}`, "dollar", { qos: 1 });
        await pub.client.publishAsync(topic("dollar"), "plain", { qos: 1 });
        assert.ok(await until(() => a.messages.some((m) => m.payload === "plain")));
        assert.ok(
          !a.messages.some((m) => m.topic.startsWith("$")),
          "# does not match $ topics [MQTT-4.7.2-1]",
        );
      }),
  },
  {
    name: "unsubscribe",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync([topic("unsub", "1"), topic("unsub", "2")], { qos: 1 });
        await a.client.unsubscribeAsync(topic("unsub", "1"));
        for (const leaf of ["1", "2"]) await a.client.publishAsync(topic("unsub", leaf), leaf, { qos: 1 });
        assert.ok(await until(() => a.messages.length >= 1));
        await sleep(300);
        assert.deepEqual(payloads(a), ["2"]);
      }),
  },
  {
    name: "redelivery_on_reconnect",
    run: async (port) => {
      const t = topic("redelivery");
      const session = {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: false,
        clientId: id("redelivery"),
        keepalive: 0,
      } as const;
      const first = await wireClient(port, 4);
      const second = await wireClient(port, 4).catch((err: unknown) => {
        first.close();
        throw err;
      });
      try {
        await withClients(async (c) => {
          first.send(session);
          assert.equal((await first.next())?.cmd, "connack");
          first.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: t, qos: 1 }] });
          assert.equal((await first.next())?.cmd, "suback");
          const pub = await open(port, {}, c);
          await pub.client.publishAsync(t, "again", { qos: 1 });
          assert.equal((await first.next())?.cmd, "publish");
          first.close(); // not acknowledged
          await sleep(200);
          second.send(session);
          assert.equal((await second.next())?.cmd, "connack");
          const p = (await second.next()) as IPublishPacket | null;
          assert.equal(p?.cmd, "publish", "the unacknowledged message is sent again [MQTT-4.4.0-1]");
          assert.deepEqual([String(p.payload), p.dup], ["again", true]);
          second.send({ cmd: "puback", messageId: p.messageId });
          second.send({ cmd: "disconnect" });
        });
      } finally {
        first.close();
        second.close();
        // The session is left clean for the next run.
        await withClients(
          async (c) => void (await open(port, { clientId: id("redelivery"), clean: true }, c)),
        );
      }
    },
  },
  {
    name: "overlapping_subscriptions",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topic("overlap", "#"), { qos: 2 });
        await a.client.subscribeAsync(topic("overlap", "+"), { qos: 1 });
        await a.client.publishAsync(topic("overlap", "x"), "both", { qos: 2 });
        assert.ok(await until(() => a.messages.length >= 1));
        await sleep(300);
        const qos = a.messages.map((m) => m.packet.qos).sort();
        // [MQTT-3.3.5-1] at the greatest QoS of the matching subscriptions: once, or once per subscription
        assert.ok(JSON.stringify(qos) === "[2]" || JSON.stringify(qos) === "[1,2]", `got QoS ${qos}`);
      }),
  },
];
