import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import mqtt from "mqtt";
import { ROOT, runCli, tempDir } from "../helpers/node.js";
import { freePort, waitForPort } from "../helpers/ports.js";

// Home Assistant's own client library (Debian's python3-paho-mqtt), over MQTT 5, against a standalone
// lab: `labx broker` and a `labx node` in separate processes, so that the node can be killed -9 while
// the broker publishes its will. HA 2027.1 refuses brokers that do not speak MQTT 5.

interface HaEvent {
  event: string;
  topic?: string;
  payload?: string;
  retain?: boolean;
  rc?: string;
  message?: string;
}

function startHomeAssistant(port: number) {
  const child = spawn(
    "/usr/bin/python3",
    [path.join(ROOT, "test/helpers/ha-client.py"), "127.0.0.1", String(port)],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const events: HaEvent[] = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on("line", (l) => events.push(JSON.parse(l) as HaEvent));
  const exited = new Promise((r) => child.once("exit", r));
  return {
    events,
    stderr: () => stderr,
    publish: (topic: string, payload: string) => child.stdin.write(JSON.stringify({ topic, payload }) + "\n"),
    waitFor: async <T>(what: string, check: () => T | undefined, ms = 20_000): Promise<T> => {
      for (const deadline = Date.now() + ms; Date.now() < deadline;) {
        const v = check();
        if (v !== undefined) return v;
        // Without python3-paho-mqtt (or on any error) the client is gone: said at once, with its words.
        if (child.exitCode !== null)
          throw new Error(
            `Home Assistant's client exited (${child.exitCode}) waiting for ${what}: ${stderr}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `Home Assistant's client: timed out waiting for ${what}; heard ${JSON.stringify(events.slice(-8))} ${stderr}`,
      );
    },
    stop: async () => {
      child.stdin.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      child.kill("SIGKILL");
      await exited;
    },
  };
}

describe("Home Assistant over MQTT 5 against the embedded broker", () => {
  it("connects, gets discovery and availability, re-gets discovery on its birth, commands the node, and hears the will of a node killed -9 without a protocol error", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const broker = runCli([
      "broker",
      "--broker-port",
      String(port),
      "--data-dir",
      path.join(dataDir, "broker"),
    ]);
    let node = null as ReturnType<typeof runCli> | null;
    let ha = null as ReturnType<typeof startHomeAssistant> | null;
    try {
      await waitForPort(port, 20_000);
      node = runCli([
        ...[
          "node",
          "--broker-url",
          `mqtt://127.0.0.1:${port}`,
          "--sbc-id",
          "HA5",
          "--data-dir",
          path.join(dataDir, "node"),
        ],
        ...["--disable-sync", "--batch-duration", "1", "--preview-interval", "0"],
      ]);
      ha = startHomeAssistant(port);
      const h = ha;
      const heard = (topic: string, payload?: string) =>
        h.events.filter(
          (e) =>
            e.event === "message" && e.topic === topic && (payload === undefined || e.payload === payload),
        );
      await h.waitFor("CONNACK", () => h.events.find((e) => e.event === "connected"));
      assert.equal(h.events.find((e) => e.event === "connected")!.rc, "Success", "MQTT 5 accepted");
      const discoveryTopic = "homeassistant/device/HA5/config";
      await h.waitFor("discovery", () => heard(discoveryTopic)[0]);
      await h.waitFor("online", () => heard("labx/HA5/availability", "online")[0]);
      const config = JSON.parse(heard(discoveryTopic)[0]!.payload!) as {
        cmps: { recording: { command_topic: string; payload_on: string; payload_off: string } };
      };

      // HA's birth message: the node announces itself again (a restarted HA without retained messages).
      const before = heard(discoveryTopic).length;
      h.publish("homeassistant/status", "online");
      await h.waitFor("discovery again after the birth", () =>
        heard(discoveryTopic).length > before ? true : undefined,
      );

      // The Recording switch, as HA flips it: the state topic says recording, then idle.
      const { command_topic, payload_on, payload_off } = config.cmps.recording;
      h.publish(command_topic, payload_on);
      await h.waitFor("recording", () =>
        heard("labx/HA5/state").find((e) => JSON.parse(e.payload!).state === "recording"),
      );
      h.publish(command_topic, payload_off);
      await h.waitFor("idle again", () =>
        heard("labx/HA5/state")
          .slice(-1)
          .find((e) => JSON.parse(e.payload!).state === "idle"),
      );

      // kill -9 of the node: the broker (another process) publishes its offline will.
      node.child.kill("SIGKILL");
      await node.exited;
      await h.waitFor("the offline will", () => heard("labx/HA5/availability", "offline")[0], 90_000);
      // Another client's will with a Will Delay Interval (Node-RED, a script): HA hears the will without
      // the CONNECT-only property its library rejects as a protocol error (aedes#1098).
      const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        will: {
          topic: "homeassistant/willtest",
          payload: Buffer.from("gone"),
          qos: 1,
          retain: false,
          properties: { willDelayInterval: 0 },
        },
      });
      other.stream.destroy();
      await h.waitFor("another client's will", () => heard("homeassistant/willtest", "gone")[0]);
      await other.endAsync(true);
      // Still connected, no protocol error: its own publish comes back to it.
      h.publish("homeassistant/device/probe/config", "");
      h.publish("homeassistant/echo", "alive");
      await h.waitFor("its own message back", () => heard("homeassistant/echo", "alive")[0]);
      assert.deepEqual(
        h.events.filter((e) => e.event === "error" || e.event === "disconnected" || e.event === "exited"),
        [],
        h.stderr(),
      );
    } finally {
      await ha?.stop();
      if (node && node.child.exitCode === null && node.child.signalCode === null) node.child.kill("SIGKILL");
      await node?.exited;
      broker.child.kill("SIGTERM");
      await broker.exited;
    }
  });
});
