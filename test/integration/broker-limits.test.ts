import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { describe, it } from "node:test";
import mqtt from "mqtt";
import { pino } from "pino";
import { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { DEFAULT_BROKER_LIMITS, type BrokerLimits } from "../../broker/connection-limits.js";
import { withSecondHost } from "../helpers/second-host.js";

// The embedded broker's limits against real clients: MQTT.js over TCP and WebSocket, raw sockets, and
// mosquitto_pub from a second host (a network namespace) for the per-address connect rate.

async function withBroker(
  limits: Partial<BrokerLimits>,
  test: (b: EmbeddedBroker) => Promise<void>,
  o: { host?: string; anonymous?: "loopback" | "anywhere" } = {},
): Promise<void> {
  const broker = new EmbeddedBroker({
    port: 0,
    host: o.host ?? "127.0.0.1",
    log: pino({ level: "silent" }),
    monotonicMs: () => performance.now(),
    wsPort: 0,
    anonymous: o.anonymous ?? "loopback",
    limits: { ...DEFAULT_BROKER_LIMITS, ...limits },
  });
  await broker.start();
  try {
    await test(broker);
  } finally {
    await broker.stop();
  }
}

/** Publishes `bytes` at QoS 1 on a fresh connection: "acked", or "closed" when the broker drops the connection. */
async function publishSized(url: string, bytes: number): Promise<"acked" | "closed"> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  try {
    const closed = new Promise<"closed">((r) => client.once("close", () => r("closed")));
    const acked = client
      .publishAsync("t/big", Buffer.alloc(bytes, 1), { qos: 1 })
      .then(() => "acked" as const);
    return await Promise.race([acked, closed]);
  } finally {
    await client.endAsync(true);
  }
}

describe("the embedded broker's limits", () => {
  it("a packet over --broker-max-packet-kb closes its connection, over TCP and WebSocket; one under it passes", async () => {
    await withBroker({ maxPacketBytes: 256 * 1024 }, async (b) => {
      for (const url of [`mqtt://127.0.0.1:${b.port}`, `ws://127.0.0.1:${b.portOf("ws")}`]) {
        assert.equal(await publishSized(url, 200 * 1024), "acked", url);
        assert.equal(await publishSized(url, 300 * 1024), "closed", url);
      }
    });
  });

  it("connections over --broker-max-connections are closed at once, and room comes back when one closes", async () => {
    await withBroker({ maxConnections: 3 }, async (b) => {
      const clients = [];
      for (let i = 0; i < 3; i++)
        clients.push(
          await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 4, reconnectPeriod: 0 }),
        );
      // The fourth socket is closed by the broker before any CONNACK.
      const fourth = tcpConnect(b.port!, "127.0.0.1");
      const closedAt = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve("still open after 3 s"), 3000);
        fourth.once("close", () => (clearTimeout(timer), resolve("closed")));
        fourth.on("error", () => {});
      });
      fourth.destroy();
      assert.equal(closedAt, "closed");
      await clients.pop()!.endAsync();
      await new Promise((r) => setTimeout(r, 200));
      clients.push(
        await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 4, reconnectPeriod: 0 }),
      );
      for (const c of clients) await c.endAsync();
    });
  });

  it("one host connecting too often is refused past its burst; loopback is not limited", async () => {
    await withSecondHost(async (host) => {
      await withBroker(
        { connectBurst: 3, connectsPerSecond: 0.01 },
        async (b) => {
          const codes: number[] = [];
          for (let i = 0; i < 5; i++) {
            const r = await host.run("mosquitto_pub", [
              "-h",
              host.hostAddress,
              "-p",
              String(b.port),
              "-t",
              "t",
              "-m",
              String(i),
            ]);
            codes.push(r.code);
          }
          assert.deepEqual(codes.slice(0, 3), [0, 0, 0], codes.join(","));
          assert.ok(
            codes.slice(3).every((c) => c !== 0),
            codes.join(","),
          );
          for (let i = 0; i < 10; i++) {
            const sock = tcpConnect(b.port!, "127.0.0.1");
            await new Promise((r) => sock.once("connect", r));
            sock.destroy();
          }
          const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, {
            protocolVersion: 4,
            reconnectPeriod: 0,
          });
          await local.endAsync();
        },
        { host: "0.0.0.0", anonymous: "anywhere" },
      );
    });
  });
});
