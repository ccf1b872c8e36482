import assert from "node:assert/strict";
import type { IPublishPacket } from "mqtt-packet";
import { type WireClient, wireClient } from "../mqtt-wire.js";
import { type Check, open, sleep, topicOf, until, withClients } from "./kit.js";

// Sessions, wills and time (MQTT 5 §3.1.2.5, §3.1.3.2, §3.3.2.3.3, §4.1).

const id = (check: string) => `conf-${check}-${process.pid}`;

/** A wire client's CONNECT for MQTT 5. */
const connect = (clientId: string, extra: object = {}) =>
  ({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 5,
    clean: true,
    clientId,
    keepalive: 0,
    ...extra,
  }) as const;

async function withWire(body: (wires: WireClient[]) => Promise<void>): Promise<void> {
  const wires: WireClient[] = [];
  try {
    await body(wires);
  } finally {
    for (const w of wires) w.close();
  }
}

export const sessionChecks: Check[] = [
  {
    name: "assigned_clientid",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, { clientId: "" }, c);
        assert.ok(a.connack.properties?.assignedClientIdentifier, "an empty client id gets one assigned");
      }),
  },
  {
    name: "offline_message_queueing",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("offline");
        const session = { clientId: id("offline"), clean: false, properties: { sessionExpiryInterval: 60 } };
        const a = await open(port, session, c);
        await a.client.subscribeAsync(t, { qos: 2 });
        await a.client.endAsync();
        const pub = await open(port, {}, c);
        for (const qos of [0, 1, 2] as const) await pub.client.publishAsync(t, `q${qos}`, { qos });
        const back = await open(port, session, c);
        assert.equal(back.connack.sessionPresent, true);
        assert.ok(await until(() => back.messages.length >= 2), "QoS 1 and 2 messages were queued");
        assert.ok(["q1", "q2"].every((p) => back.messages.some((m) => m.payload === p)));
      }),
  },
  {
    name: "redelivery_on_reconnect",
    run: (port) =>
      withWire(async (w) =>
        withClients(async (c) => {
          const t = topicOf("redelivery");
          const session = connect(id("redelivery"), {
            clean: false,
            properties: { sessionExpiryInterval: 60 },
          });
          const first = await wireClient(port);
          w.push(first);
          first.send(session);
          assert.equal((await first.next())?.cmd, "connack");
          first.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: t, qos: 1 }] });
          assert.equal((await first.next())?.cmd, "suback");
          const pub = await open(port, {}, c);
          await pub.client.publishAsync(t, "again", { qos: 1 });
          assert.equal((await first.next())?.cmd, "publish");
          first.close(); // not acknowledged
          await sleep(200);
          const second = await wireClient(port);
          w.push(second);
          second.send(session);
          assert.equal((await second.next())?.cmd, "connack");
          const p = (await second.next()) as IPublishPacket | null;
          assert.equal(p?.cmd, "publish", "the unacknowledged message is sent again");
          assert.deepEqual([String(p.payload), p.dup], ["again", true]);
          second.send({ cmd: "puback", messageId: p.messageId });
        }),
      ),
  },
  {
    name: "session_expiry",
    run: (port) =>
      withClients(async (c) => {
        const short = { clientId: id("expiry"), clean: false, properties: { sessionExpiryInterval: 1 } };
        const a = await open(port, short, c);
        await a.client.subscribeAsync(topicOf("expiry"), { qos: 1 });
        await a.client.endAsync();
        const soon = await open(port, short, c);
        assert.equal(soon.connack.sessionPresent, true, "kept within its expiry");
        await soon.client.endAsync();
        await sleep(2500);
        const late = await open(port, short, c);
        assert.equal(late.connack.sessionPresent, false, "ended after its expiry");
      }),
  },
  {
    name: "publication_expiry",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("pubexpiry");
        const session = {
          clientId: id("pubexpiry"),
          clean: false,
          properties: { sessionExpiryInterval: 60 },
        };
        const a = await open(port, session, c);
        await a.client.subscribeAsync(t, { qos: 1 });
        await a.client.endAsync();
        const pub = await open(port, {}, c);
        await pub.client.publishAsync(t, "expires", { qos: 1, properties: { messageExpiryInterval: 1 } });
        await pub.client.publishAsync(t, "stays", { qos: 1, properties: { messageExpiryInterval: 60 } });
        await sleep(2200);
        const back = await open(port, session, c);
        assert.ok(await until(() => back.messages.length >= 1));
        await sleep(300);
        assert.deepEqual(
          back.messages.map((m) => m.payload),
          ["stays"],
        );
        const left = back.messages[0]!.packet.properties?.messageExpiryInterval ?? 60;
        assert.ok(left < 60, `the interval left is sent (${left} s) [MQTT-3.3.2-6]`);
      }),
  },
  {
    name: "keepalive",
    run: (port) =>
      withWire(async (w) =>
        withClients(async (c) => {
          const t = topicOf("keepalive");
          const watcher = await open(port, {}, c);
          await watcher.client.subscribeAsync(t, { qos: 1 });
          const silent = await wireClient(port);
          w.push(silent);
          const will = { topic: t, payload: Buffer.from("keepalive expiry"), qos: 1 as const, retain: false };
          silent.send({ ...connect(id("keepalive")), keepalive: 2, will });
          assert.equal((await silent.next())?.cmd, "connack");
          assert.ok(
            await until(() => watcher.messages.length === 1, 12_000),
            "after 1.5 × keepalive without a packet (mosquitto takes ~5 s)",
          );
          assert.ok(await until(() => silent.closed), "the silent connection is closed");
        }),
      ),
  },
  {
    name: "will_delay",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("willdelay");
        const watcher = await open(port, {}, c);
        await watcher.client.subscribeAsync(t, { qos: 1 });
        const opts = {
          clientId: id("willdelay"),
          properties: { sessionExpiryInterval: 60 },
          will: {
            topic: t,
            payload: Buffer.from("late"),
            qos: 1 as const,
            retain: false,
            properties: { willDelayInterval: 2 },
          },
        };
        const a = await open(port, opts, c);
        a.client.stream.destroy();
        await sleep(800);
        assert.equal(watcher.messages.length, 0, "not before its delay");
        assert.ok(await until(() => watcher.messages.length === 1, 4000), "after its delay");
        assert.ok(
          !("willDelayInterval" in (watcher.messages[0]!.packet.properties ?? {})),
          "a PUBLISH carries no Will Delay Interval (aedes#1098)",
        );
        const b = await open(port, { ...opts, clean: true }, c);
        b.client.stream.destroy();
        await sleep(300);
        await open(port, { ...opts, clean: false }, c);
        await sleep(2700);
        assert.equal(watcher.messages.length, 1, "a reconnect within the delay cancels the will");
      }),
  },
];
