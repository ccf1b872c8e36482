// N lightweight clients speaking the node side of the contract (no ffmpeg): retained online and
// state, an offline will, a valid reply to every command, and on request a burst of batch-ready
// events. Driven by bench/scale.ts over stdin/stdout (one JSON line each way).
// Usage: tsx bench/sim-nodes.ts <broker-url> <count> [prefix]
import { createInterface } from "node:readline";
import mqtt, { type MqttClient } from "mqtt";

const [url, countText, prefix = "SIM"] = process.argv.slice(2);
const count = Number(countText);
const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);
const now = () => new Date().toISOString();

function state(id: string) {
  return {
    node: id,
    state: "idle",
    session: null,
    started_at: null,
    batches: 0,
    updated_at: now(),
    groups: ["sim"],
  };
}

function batch(id: string, seq: number) {
  const start = new Date(Date.now() - 10_000).toISOString();
  return {
    node: id,
    session: "bench",
    seq,
    file: `bench/${id}_bench_${String(seq).padStart(5, "0")}.mkv`,
    start,
    end: now(),
    duration_s: 10,
    frames: 300,
    bytes: 1843200,
    sha256: "0".repeat(64),
    clock: { synced: true, offset_s: 0.00002 },
  };
}

const clients: MqttClient[] = [];
await Promise.all(
  ids.map(async (id) => {
    const c = await mqtt.connectAsync(url!, {
      clientId: `sim-${id}`,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      will: { topic: `labx/${id}/availability`, payload: Buffer.from("offline"), qos: 1, retain: true },
    });
    c.on("message", (_topic, payload) => {
      let cmd: { cmd?: string; id?: string } = {};
      try {
        cmd = JSON.parse(payload.toString()) as typeof cmd;
      } catch {
        cmd = { cmd: payload.toString() };
      }
      const reply = {
        id: cmd.id ?? null,
        cmd: cmd.cmd ?? null,
        node: id,
        ok: true,
        session: null,
        state: state(id),
      };
      c.publish(`labx/${id}/reply`, JSON.stringify(reply), { qos: 1 });
    });
    await c.subscribeAsync([`labx/${id}/cmd`, "labx/all/cmd", "labx/sim/cmd"], { qos: 1 });
    await c.publishAsync(`labx/${id}/availability`, "online", { qos: 1, retain: true });
    await c.publishAsync(`labx/${id}/state`, JSON.stringify(state(id)), { qos: 1, retain: true });
    clients.push(c);
  }),
);
process.stdout.write(JSON.stringify({ ready: clients.length }) + "\n");

// {"burst": seconds}: every client publishes QoS 1 batch events back to back (each waits for its
// PUBACK before the next, as a node's outbox does) for that long; answers with the count sent.
for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line) as { burst?: number; quit?: boolean };
  if (msg.quit) break;
  if (msg.burst) {
    const until = Date.now() + msg.burst * 1000;
    const sent = await Promise.all(
      clients.map(async (c, i) => {
        let n = 0;
        while (Date.now() < until)
          await c.publishAsync(`labx/${ids[i]}/batch`, JSON.stringify(batch(ids[i]!, n++)), { qos: 1 });
        return n;
      }),
    );
    process.stdout.write(JSON.stringify({ sent: sent.reduce((a, b) => a + b, 0) }) + "\n");
  }
}
await Promise.all(clients.map((c) => c.endAsync()));
process.exit(0);
