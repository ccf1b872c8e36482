import assert from "node:assert/strict";
import { type Check, open, sleep, topicOf, until, withClients } from "./kit.js";

// Delivery and the properties a message carries (MQTT 5 §3.3, §3.8, §4.7, §4.8).

const payloads = (o: { messages: { payload: string }[] }) => o.messages.map((m) => m.payload);

export const messageChecks: Check[] = [
  {
    name: "basic",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("basic");
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(t, { qos: 2 });
        for (const qos of [0, 1, 2] as const) await a.client.publishAsync(t, `qos ${qos}`, { qos });
        assert.ok(await until(() => a.messages.length === 3), "three messages back");
        assert.deepEqual(payloads(a).sort(), ["qos 0", "qos 1", "qos 2"]);
      }),
  },
  {
    name: "retained_message",
    run: (port) =>
      withClients(async (c) => {
        const pub = await open(port, {}, c);
        for (const qos of [0, 1, 2] as const)
          await pub.client.publishAsync(topicOf("retained", `q${qos}`), `r${qos}`, { qos, retain: true });
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topicOf("retained", "#"), { qos: 2 });
        assert.ok(await until(() => a.messages.length === 3), "three retained messages");
        assert.ok(
          a.messages.every((m) => m.packet.retain),
          "each with its retain flag",
        );
        for (const qos of [0, 1, 2] as const)
          await pub.client.publishAsync(topicOf("retained", `q${qos}`), "", { qos, retain: true });
        const b = await open(port, {}, c);
        await b.client.subscribeAsync(topicOf("retained", "#"), { qos: 2 });
        await sleep(500);
        assert.equal(b.messages.length, 0, "an empty retained message clears it");
      }),
  },
  {
    name: "will_message",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("will");
        const b = await open(port, {}, c);
        await b.client.subscribeAsync(t, { qos: 2 });
        const a = await open(
          port,
          { will: { topic: t, payload: Buffer.from("gone"), qos: 1, retain: false } },
          c,
        );
        a.client.stream.destroy();
        assert.ok(await until(() => b.messages.length === 1), "the will of a lost connection is published");
        assert.equal(b.messages[0]!.payload, "gone");
      }),
  },
  {
    name: "overlapping_subscriptions",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topicOf("overlap", "#"), { qos: 2 });
        await a.client.subscribeAsync(topicOf("overlap", "+"), { qos: 1 });
        await a.client.publishAsync(topicOf("overlap", "x"), "both", { qos: 2 });
        assert.ok(await until(() => a.messages.length >= 1));
        await sleep(300);
        const qos = a.messages.map((m) => m.packet.qos).sort();
        // [MQTT-3.3.4-2] one message at the greatest QoS, or one per subscription
        assert.ok(JSON.stringify(qos) === "[2]" || JSON.stringify(qos) === "[1,2]", `got QoS ${qos}`);
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
        await pub.client.publishAsync(`$conformance/${process.pid}`, "dollar", { qos: 1 });
        await pub.client.publishAsync(topicOf("dollar"), "plain", { qos: 1 });
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
        await a.client.subscribeAsync([topicOf("unsub", "1"), topicOf("unsub", "2")], { qos: 1 });
        await a.client.unsubscribeAsync(topicOf("unsub", "1"));
        for (const leaf of ["1", "2"]) await a.client.publishAsync(topicOf("unsub", leaf), leaf, { qos: 1 });
        assert.ok(await until(() => a.messages.length >= 1));
        await sleep(300);
        assert.deepEqual(payloads(a), ["2"]);
      }),
  },
  {
    name: "user_properties",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("userprops");
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(t, { qos: 1 });
        const userProperties = { a: "2", c: "3", b: ["1", "4"] };
        await a.client.publishAsync(t, "x", { qos: 1, properties: { userProperties } });
        assert.ok(await until(() => a.messages.length === 1));
        assert.deepEqual(
          { ...a.messages[0]!.packet.properties?.userProperties },
          userProperties,
          "all, in order",
        );
      }),
  },
  {
    name: "payload_format",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("format");
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(t, { qos: 1 });
        const properties = { payloadFormatIndicator: true, contentType: "application/json" };
        await a.client.publishAsync(t, "{}", { qos: 1, properties });
        assert.ok(await until(() => a.messages.length === 1));
        const got = a.messages[0]!.packet.properties;
        assert.deepEqual([got?.payloadFormatIndicator, got?.contentType], [true, "application/json"]);
      }),
  },
  {
    name: "request_response",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("request");
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(t, { qos: 1 });
        const properties = {
          responseTopic: topicOf("request", "reply"),
          correlationData: Buffer.from("id-7"),
        };
        await a.client.publishAsync(t, "ask", { qos: 1, properties });
        assert.ok(await until(() => a.messages.length === 1));
        const got = a.messages[0]!.packet.properties;
        assert.equal(got?.responseTopic, properties.responseTopic);
        assert.equal(String(got?.correlationData), "id-7");
      }),
  },
  {
    name: "subscribe_options",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topicOf("opts", "nl"), { qos: 1, nl: true });
        await a.client.publishAsync(topicOf("opts", "nl"), "own", { qos: 1 });
        const r = topicOf("opts", "r");
        await a.client.publishAsync(r, "kept", { qos: 1, retain: true });
        await a.client.subscribeAsync(r, { qos: 1, rh: 2 });
        await sleep(400);
        assert.equal(a.messages.length, 0, "No Local, and Retain Handling 2 sends no retained message");
        const b = await open(port, {}, c);
        await b.client.subscribeAsync(r, { qos: 1, rap: true, rh: 1 });
        assert.ok(
          await until(() => b.messages.length === 1),
          "Retain Handling 1: retained for a new subscription",
        );
        await b.client.subscribeAsync(r, { qos: 1, rap: true, rh: 1 });
        await a.client.publishAsync(r, "live", { qos: 1, retain: true });
        assert.ok(
          (await until(() => b.messages.length === 2)) && (await until(() => a.messages.length === 1)),
        );
        await sleep(300);
        assert.equal(b.messages.length, 2, "Retain Handling 1: none again for an existing subscription");
        assert.equal(b.messages[1]!.packet.retain, true, "Retain As Published keeps the flag");
        assert.equal(a.messages[0]!.packet.retain, false, "without it the flag is cleared");
        await a.client.publishAsync(r, "", { qos: 1, retain: true });
      }),
  },
  {
    name: "subscribe_identifiers",
    run: (port) =>
      withClients(async (c) => {
        const a = await open(port, {}, c);
        await a.client.subscribeAsync(topicOf("subid"), {
          qos: 1,
          properties: { subscriptionIdentifier: 456789 },
        });
        await a.client.subscribeAsync(topicOf("subid", "#"), {
          qos: 1,
          properties: { subscriptionIdentifier: 3 },
        });
        await a.client.publishAsync(topicOf("subid"), "x", { qos: 1 });
        assert.ok(await until(() => a.messages.length >= 1));
        await sleep(300);
        const ids = a.messages.flatMap((m) => [m.packet.properties?.subscriptionIdentifier ?? []].flat());
        assert.deepEqual(ids.sort(), [3, 456789], "every matching subscription's identifier [MQTT-3.3.4-3]");
      }),
  },
  {
    name: "shared_subscriptions",
    run: (port) =>
      withClients(async (c) => {
        const t = topicOf("shared");
        const a = await open(port, {}, c);
        const b = await open(port, {}, c);
        for (const o of [a, b]) await o.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
        for (let i = 0; i < 10; i++) await a.client.publishAsync(t, String(i), { qos: 1 });
        assert.ok(await until(() => a.messages.length + b.messages.length >= 10));
        await sleep(300);
        assert.equal(a.messages.length + b.messages.length, 10, "each message to one member of the group");
      }),
  },
];
