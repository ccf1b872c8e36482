import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { ROOT as ROOT_DIR, runCli } from "../helpers/node.js";
import { freePort } from "../helpers/ports.js";

const run = promisify(execFile);
const NODE_IMAGE = process.env.LABX_IMAGE ?? "labx:latest";
const MOSQUITTO_IMAGE = process.env.LABX_MOSQUITTO_IMAGE ?? "labx-test/mosquitto:2";

/** Why these tests cannot run here, or false when they can. */
function unavailable(): string | false {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 10_000 });
  } catch {
    return "no Docker engine is running (start dockerd; .ci/run does where it can)";
  }
  for (const image of [NODE_IMAGE, MOSQUITTO_IMAGE])
    try {
      execFileSync("docker", ["image", "inspect", image], { stdio: "pipe" });
    } catch {
      return `image ${image} is not built (docker/build-images.sh)`;
    }
  return false;
}

// testcontainers' reaper (Ryuk) is an image from a registry, which is out of reach here: the tests
// remove their own containers and network instead.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";

describe("the labx image against a mosquitto container (testcontainers)", { skip: unavailable() }, () => {
  type Tc = typeof import("testcontainers");
  let tc: Tc;
  let network: Awaited<ReturnType<InstanceType<Tc["Network"]>["start"]>>;
  let mosquitto: Awaited<ReturnType<InstanceType<Tc["GenericContainer"]>["start"]>>;
  let node: typeof mosquitto;
  let rec: MqttRecorder;

  before(async () => {
    tc = await import("testcontainers");
    network = await new tc.Network().start();
    mosquitto = await new tc.GenericContainer(MOSQUITTO_IMAGE)
      .withNetwork(network)
      .withNetworkAliases("mosquitto")
      .withExposedPorts(1883)
      .withWaitStrategy(tc.Wait.forListeningPorts())
      .start();
    rec = await MqttRecorder.connect(
      `mqtt://${mosquitto.getHost()}:${mosquitto.getMappedPort(1883)}`,
      ["labx/#"],
      5,
    );
    node = await new tc.GenericContainer(NODE_IMAGE)
      .withNetwork(network)
      .withCommand([
        "node",
        "--sbc-id=DOCK1",
        "--camera=synthetic",
        "--broker-url=mqtt://mosquitto:1883",
        "--disable-sync",
        "--batch-duration=1",
        "--mqtt-keepalive=2",
      ])
      .withWaitStrategy(tc.Wait.forLogMessage(/node ready/))
      .withStartupTimeout(60_000)
      .start();
  });
  after(async () => {
    await rec?.close();
    await node?.stop({ timeout: 20_000 });
    await mosquitto?.stop();
    await network?.stop();
  });

  it("runs as a non-root user with Node.js 24 and Debian 13's ffmpeg and answers over the container network", async () => {
    const id = await node.exec(["id", "-un"]);
    assert.equal(id.output.trim(), "labx");
    const ff = await node.exec(["ffmpeg", "-version"]);
    assert.match(ff.output, /^ffmpeg version 7\.1\.\d+-\S*deb13/);
    const nodeVersion = await node.exec(["node", "--version"]);
    assert.match(nodeVersion.output.trim(), /^v24\./);
    await rec.waitFor(
      () => (rec.on("labx/DOCK1/availability").at(-1)?.text === "online" ? true : undefined),
      20_000,
      "online",
    );
    await rec.publish("labx/DOCK1/cmd", JSON.stringify({ cmd: "status", id: "d1" }));
    const reply = await rec.waitFor(
      () => rec.jsonOn<{ id: string; ok: boolean }>("labx/DOCK1/reply").find((r) => r.id === "d1"),
      10_000,
      "reply",
    );
    assert.equal(reply.ok, true);
  });

  it("network cut mid-session (docker network disconnect): offline will, reconnect, every batch delivered in order and in the manifest", async () => {
    await rec.publish("labx/DOCK1/cmd", JSON.stringify({ cmd: "start", id: "d2", session: "cut" }));
    const batches = () => rec.jsonOn<BatchReady>("labx/DOCK1/batch").filter((b) => b.session === "cut");
    await rec.waitFor(() => (batches().length >= 2 ? true : undefined), 30_000, "batches before the cut");
    const net = network.getName();
    await run("docker", ["network", "disconnect", net, node.getId()]);
    const cutAt = batches().length;
    // The broker gives up on the silent client after 1.5 × keepalive and publishes its will.
    await rec.waitFor(
      () => (rec.on("labx/DOCK1/availability").at(-1)?.text === "offline" ? true : undefined),
      30_000,
      "offline will",
    );
    await new Promise((r) => setTimeout(r, 4000)); // the node records on, unheard
    assert.equal(batches().length, cutAt, "nothing arrives while the node is cut off");
    await run("docker", ["network", "connect", net, node.getId()]);
    await rec.waitFor(
      () => (rec.on("labx/DOCK1/availability").at(-1)?.text === "online" ? true : undefined),
      30_000,
      "online again",
    );
    await rec.waitFor(
      () => (batches().length >= cutAt + 5 ? true : undefined),
      30_000,
      "the batches recorded while cut off",
    );
    await rec.publish("labx/DOCK1/cmd", JSON.stringify({ cmd: "stop", id: "d3" }));
    await rec.waitFor(() => batches().find((b) => b.last), 30_000, "the last batch");
    const seen = batches();
    const unique = [...new Map(seen.map((b) => [b.seq, b])).values()];
    assert.deepEqual(
      unique.map((b) => b.seq),
      unique.map((_, i) => i),
      "seq 0..n, none missing",
    );
    for (let i = 1; i < unique.length; i++)
      assert.equal(unique[i]!.start, unique[i - 1]!.end, `no gap before batch ${i}`);
    const manifest = await node.exec(["cat", "/data/cut/manifest.jsonl"]);
    const lines = manifest.output
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as BatchReady);
    assert.deepEqual(lines, unique);
  });
});

function composeUnavailable(): string | false {
  const docker = unavailable();
  if (docker) return docker;
  try {
    execFileSync("docker-compose", ["version"], { stdio: "pipe" });
    return false;
  } catch {
    return "docker-compose is not installed (apt-get install docker-compose)";
  }
}

describe(
  "docker/compose.yaml: mosquitto and one node, driven by labx from the host",
  { skip: composeUnavailable() },
  () => {
    const project = `labxcompose${process.pid}`;
    let env: NodeJS.ProcessEnv;
    const compose = (...args: string[]) =>
      run("docker-compose", ["-p", project, "-f", "docker/compose.yaml", ...args], { env, cwd: ROOT_DIR });
    let rec: MqttRecorder | undefined;

    before(async () => {
      env = {
        ...process.env,
        MQTT_PORT: String(await freePort()),
        LABX_IMAGE: NODE_IMAGE,
        MOSQUITTO_IMAGE,
        LABX_SBC_ID: "COMPOSE1",
      };
      await compose("up", "-d", "--no-build");
    });
    after(async () => {
      await rec?.close();
      await compose("down", "-v", "--timeout", "20");
    });

    it("comes up with the synthetic camera; labx start/stop from the host records batches", async () => {
      const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`;
      rec = await waitForBroker(url);
      await rec.waitFor(
        () => (rec!.on("labx/COMPOSE1/availability").at(-1)?.text === "online" ? true : undefined),
        60_000,
        "node online",
      );
      const start = runCli(["start", "--target", "COMPOSE1", "--session", "compose", "--broker-url", url]);
      assert.equal((await start.exited).code, 0, start.stdout() + start.stderr());
      await rec.waitFor(
        () => rec!.jsonOn<BatchReady>("labx/COMPOSE1/batch").find((b) => b.session === "compose"),
        30_000,
        "a batch",
      );
      const stop = runCli(["stop", "--target", "COMPOSE1", "--broker-url", url]);
      assert.equal((await stop.exited).code, 0, stop.stdout() + stop.stderr());
      const ls = await run("docker", ["exec", `${project}_node_1`, "ls", "/data/compose"]);
      assert.match(ls.stdout, /manifest\.jsonl/);
      assert.match(ls.stdout, /COMPOSE1_compose_000000000\.mkv/);
    });
  },
);

async function waitForBroker(url: string): Promise<MqttRecorder> {
  for (let i = 0; ; i++) {
    try {
      return await MqttRecorder.connect(url, ["labx/#"], 5, { reconnectPeriod: 0, connectTimeout: 2000 });
    } catch (err) {
      if (i > 30) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
