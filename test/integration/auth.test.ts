import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { loadAuthFile } from "../../broker/auth-file.js";
import { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { hashPassword } from "../../broker/password.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { selfSigned } from "../helpers/tls.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects once, no retries; resolves the client or rejects with the broker's answer. */
function connectOnce(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

const PASSWORDS: Record<string, string> = { A: "pw-A", B: "pw-B", TLS1: "pw-T", lab: "pw-lab" };

describe("embedded broker with --auth-file: who may do what (real aedes, real nodes, TLS and WebSocket)", () => {
  const dir = tempDir();
  let broker: EmbeddedBroker;
  let url: string;
  let ctl: MqttRecorder;
  let certFile: string;
  const nodes: RunningNode[] = [];

  before(async () => {
    const users = [
      { username: "A", role: "node", groups: ["row1"] },
      { username: "B", role: "node" },
      { username: "TLS1", role: "node" },
      { username: "lab", role: "controller" },
    ];
    const authFile = path.join(dir, "auth.json");
    writeFileSync(
      authFile,
      JSON.stringify({
        users: await Promise.all(
          users.map(async (u) => ({ ...u, password_hash: await hashPassword(PASSWORDS[u.username]!) })),
        ),
      }),
    );
    const { cert, key } = selfSigned(dir);
    certFile = cert;
    broker = new EmbeddedBroker({
      port: 0,
      host: "127.0.0.1",
      log: pino({ level: "silent" }),
      monotonicMs: () => performance.now(),
      users: loadAuthFile(authFile),
      tls: { port: 0, cert: readFileSync(cert), key: readFileSync(key) },
      wsPort: 0,
    });
    const port = await broker.start();
    url = `mqtt://127.0.0.1:${port}`;
    ctl = await MqttRecorder.connect(url, ["labx/#"], 4, { username: "lab", password: PASSWORDS.lab });
    for (const id of ["A", "B"]) {
      nodes.push(
        await startNode({
          broker_url: url,
          sbc_id: id,
          groups: id === "A" ? ["row1"] : [],
          broker_username: id,
          broker_password: PASSWORDS[id]!,
          batch_duration: 1,
          disable_sync: true,
        }),
      );
    }
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await ctl?.close();
    await broker?.stop();
  });

  it("refuses anonymous clients and wrong passwords at CONNECT", async () => {
    await assert.rejects(connectOnce(url), (err: { code?: number }) => err.code === 5);
    await assert.rejects(
      connectOnce(url, { username: "A", password: "wrong" }),
      (err: { code?: number }) => err.code === 4,
    );
    await assert.rejects(
      connectOnce(url, { username: "nobody", password: "x" }),
      (err: { code?: number }) => err.code === 4,
    );
  });

  it("nodes logged in with their own credentials work end to end: a controller's start and stop, batches", async () => {
    const start = await ctl.command("labx", "A", "A", { cmd: "start", session: "authok" });
    assert.equal(start.ok, true, JSON.stringify(start));
    await ctl.waitFor(() => ctl.jsonOn("labx/A/batch")[0], 20_000, "a batch from A");
    assert.equal((await ctl.command("labx", "A", "A", { cmd: "stop" })).ok, true);
    // The group command reaches A (it may read labx/row1/cmd).
    assert.equal((await ctl.command("labx", "row1", "A", { cmd: "status" })).ok, true);
  });

  it("node A cannot publish as node B, not even through its will", async () => {
    const forger = await connectOnce(url, {
      username: "A",
      password: PASSWORDS.A,
      clientId: "forger",
      will: { topic: "labx/B/availability", payload: Buffer.from("forged-will"), qos: 0, retain: false },
    });
    forger.publish("labx/B/batch", "forged-batch");
    forger.publish("labx/B/state", "forged-state");
    await sleep(300);
    forger.stream.destroy(); // an unclean end: the broker would publish the will
    const honest = await connectOnce(url, { username: "A", password: PASSWORDS.A, clientId: "honest" });
    await honest.publishAsync("labx/A/event", "marker", { qos: 1 });
    await ctl.waitFor(() => ctl.on("labx/A/event").find((m) => m.text === "marker"), 10_000, "marker");
    await sleep(300);
    await honest.endAsync();
    const forged = ctl.messages.filter((m) => m.text.startsWith("forged"));
    assert.deepEqual(
      forged.map((m) => m.topic),
      [],
      "nothing published under B's name reached anyone",
    );
  });

  it("node A cannot read B's commands, nor everything; it can read its own", async () => {
    const a = await connectOnce(url, { username: "A", password: PASSWORDS.A, clientId: "reader" });
    // MQTT.js reports a refused filter as an error; the SUBACK's codes are in the packet, in order.
    const filters = ["labx/B/cmd", "labx/#", "labx/+/cmd", "labx/A/cmd"];
    const codes = await new Promise<number[]>((resolve) =>
      a.subscribe(filters, { qos: 1 }, (_err, _subs, packet) =>
        resolve(((packet as { granted?: number[] } | undefined)?.granted ?? []).map(Number)),
      ),
    );
    const granted = filters.map((topic, i) => ({ topic, qos: codes[i] }));
    const byTopic = Object.fromEntries(granted.map((g) => [g.topic, g.qos]));
    assert.equal(byTopic["labx/B/cmd"], 128);
    assert.equal(byTopic["labx/#"], 128);
    assert.equal(byTopic["labx/+/cmd"], 128);
    assert.equal(byTopic["labx/A/cmd"], 1);
    const seen: string[] = [];
    a.on("message", (t) => seen.push(t));
    const r = await ctl.command("labx", "B", "B", { cmd: "status", id: "for-B" });
    assert.equal(r.ok, true);
    await sleep(300);
    assert.deepEqual(seen, [], "B's command never reached A's reader");
    await a.endAsync();
  });

  it("a node connects over TLS (verifying the broker against a CA file) and a client reads over WebSocket", async () => {
    const tlsNode = await startNode({
      broker_url: `mqtts://127.0.0.1:${broker.portOf("tls")}`,
      broker_ca: certFile,
      broker_username: "TLS1",
      broker_password: PASSWORDS.TLS1!,
      sbc_id: "TLS1",
      disable_sync: true,
    });
    nodes.push(tlsNode);
    const ws = await MqttRecorder.connect(`ws://127.0.0.1:${broker.portOf("ws")}`, ["labx/#"], 4, {
      username: "lab",
      password: PASSWORDS.lab,
    });
    try {
      await ws.waitFor(
        () => ws.on("labx/TLS1/availability").find((m) => m.text === "online"),
        10_000,
        "TLS1 online, seen over WebSocket",
      );
      assert.equal(
        (await ctl.command("labx", "TLS1", "TLS1", { cmd: "status" }, 5000)).ok,
        true,
        "over tcp to TLS1",
      );
      assert.equal((await ws.command("labx", "A", "A", { cmd: "status" }, 5000)).ok, true, "over ws to A");
    } finally {
      await ws.close();
    }
  });
});

describe("a node against mosquitto with a password file", () => {
  let broker: Broker;
  const dir = tempDir();
  before(async () => {
    chmodSync(dir, 0o755);
    const file = path.join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-b", "-c", file, "M1", "pw-M1"]);
    execFileSync("mosquitto_passwd", ["-b", file, "lab", "pw-lab"]);
    broker = await startMosquitto(undefined, { passwordFile: file });
  });
  after(async () => {
    await broker?.stop();
  });

  it("connects with its user name and password (MQTT 5), and a wrong password fails the start with the broker's reason", async () => {
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"], 5, {
      username: "lab",
      password: "pw-lab",
    });
    const node = await startNode({
      broker_url: broker.url,
      sbc_id: "M1",
      broker_username: "M1",
      broker_password: "pw-M1",
      disable_sync: true,
    });
    try {
      await rec.waitFor(
        () => rec.on("labx/M1/availability").find((m) => m.text === "online"),
        10_000,
        "online",
      );
      assert.equal((await rec.command("labx", "M1", "M1", { cmd: "status" })).ok, true);
    } finally {
      await node.stop();
      await rec.close();
    }
    await assert.rejects(
      startNode({
        broker_url: broker.url,
        sbc_id: "M1",
        broker_username: "M1",
        broker_password: "nope",
        disable_sync: true,
      }),
      (err: Error & { code?: number }) => {
        assert.ok([4, 5, 134, 135].includes(err.code!), `refused with ${err.code}: ${err.message}`);
        return true;
      },
    );
  });
});
