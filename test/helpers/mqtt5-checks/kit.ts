import mqtt from "mqtt";
import type { IConnackPacket, IPublishPacket } from "mqtt-packet";

// The kit of labx's MQTT 5 conformance checks (test/integration/mqtt5-conformance.test.ts): a check
// gets a broker's port and throws on what the MQTT 5 specification forbids.

export interface Check {
  /** Named after the Eclipse Paho interoperability test (client_test5.py) it mirrors. */
  name: string;
  run(port: number): Promise<void>;
}

export interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

export interface Opened {
  client: mqtt.MqttClient;
  connack: IConnackPacket;
  messages: Received[];
}

/** Each check's own topics, so that retained messages and sessions of one cannot reach another. */
export const topicOf = (check: string, leaf = "t") => `conformance/${check}/${process.pid}/${leaf}`;

/** An MQTT 5 client (MQTT.js, which acknowledges by itself) with its CONNACK and the messages it got. */
export async function open(
  port: number,
  opts: mqtt.IClientOptions = {},
  opened: Opened[] = [],
): Promise<Opened> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload: String(payload), packet }),
  );
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
  client.on("error", () => {});
  const o = { client, connack, messages };
  opened.push(o);
  return o;
}

/** Waits until `ok()` holds, up to `ms`; false if it never did. */
export async function until(ok: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (ok()) return true;
  return ok();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes every client a check opened, whatever happened. */
export async function closeAll(opened: Opened[]): Promise<void> {
  await Promise.all(opened.map((o) => o.client.endAsync(true).catch(() => {})));
}

/** Runs `body` with a list its clients go into, closing them afterwards. */
export async function withClients(body: (opened: Opened[]) => Promise<void>): Promise<void> {
  const opened: Opened[] = [];
  try {
    await body(opened);
  } finally {
    await closeAll(opened);
  }
}
