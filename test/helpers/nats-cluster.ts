import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { freePort, waitForPort } from "./ports.js";
import { exitedEarly, requireProgram } from "./tools.js";

// A real clustered MQTT engine on loopback: NATS server (Debian's nats-server 2.9) members with
// JetStream and an MQTT listener each, routed to one another. Sessions, QoS 1 messages for persistent
// sessions and retained messages live in JetStream streams replicated on every member (MQTT 3.1.1
// only). killMember() is kill -9: no goodbye to the cluster or to the member's clients.

export interface NatsMember {
  name: string;
  mqttPort: number;
  url: string;
  alive(): boolean;
  /** kill -9, and waits for the exit. */
  kill(): Promise<void>;
  /** What the member printed (its log). */
  log(): string;
  /** Rejects when the member exits (or cannot start): a dead member fails the wait for it at once. */
  early: Promise<never>;
}

export interface NatsCluster {
  members: NatsMember[];
  /** The members' MQTT URLs comma-separated, in the order of `order` (indexes). */
  urls(order?: number[]): string;
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "labx-nats-"));
  const ports = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), route: await freePort(), mqtt: await freePort() });
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(", ");
  const children: ChildProcess[] = [];
  const natsServer = requireProgram("nats-server", "nats-server");
  const members: NatsMember[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const conf = path.join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${path.join(dir, name)}" }`,
        `cluster { name: labx, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`,
        `mqtt { listen: 127.0.0.1:${p.mqtt} }`,
        "",
      ].join("\n"),
    );
    const child = spawn(natsServer, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const early = exitedEarly(child, `nats-server ${name}`, () => log);
    return {
      name,
      mqttPort: p.mqtt,
      url: `mqtt://127.0.0.1:${p.mqtt}`,
      alive: () => child.exitCode === null && child.signalCode === null,
      kill: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      },
      log: () => log,
      early,
    };
  });
  const cluster: NatsCluster = {
    members,
    urls: (order = members.map((_, i) => i)) => order.map((i) => members[i]!.url).join(","),
    stop: async () => {
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) await Promise.race([waitForPort(m.mqttPort, 15_000), m.early]);
    // Ready when every member takes a persistent session (which needs the replicated MQTT streams,
    // created by the first such connection) and a retained message published on one reaches the others.
    for (const m of members) await probe(m.url, `probe-${m.name}`);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw new Error(
      `NATS cluster did not start: ${(err as Error).message}\n${members.map((m) => m.log()).join("\n")}`,
    );
  }
}

/** Connects with a persistent session until the member accepts it (the cluster forms in seconds). */
async function probe(url: string, clientId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await mqtt.connectAsync(
        url,
        { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0, connectTimeout: 10_000 },
        false,
      );
      await c.subscribeAsync("labx-probe/#", { qos: 1 });
      await c.publishAsync("labx-probe/ready", "1", { qos: 1, retain: true });
      await c.endAsync();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
