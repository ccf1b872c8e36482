import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Ajv } from "ajv";
import { startChronyClient, startChronyServer, type Chronyd } from "../helpers/chrony.js";
import { jinjaUnavailable, renderTemplates } from "../helpers/jinja.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { isJpeg, jpegSize } from "../../contract/preview.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";

interface Component {
  p: string;
  unique_id: string;
  state_topic?: string;
  value_template?: string;
  /** camera: the topic whose payloads are the image. */
  topic?: string;
  command_topic?: string;
  payload_on?: string;
  payload_off?: string;
  state_on?: string;
  state_off?: string;
}
interface Discovery {
  availability_topic: string;
  payload_available: string;
  cmps: Record<string, Component>;
}

const TOPIC = "homeassistant/device/HA1/config";
const schema = JSON.parse(
  readFileSync(new URL("../fixtures/ha-device-discovery.schema.json", import.meta.url), "utf8"),
) as object;
const validDiscovery = new Ajv({ allErrors: true, strict: false }).compile(schema);

// Home Assistant is played by an MQTT 5 client on mosquitto (HA's own protocol and broker of choice):
// it reads the discovery message, renders the value templates with Jinja2 as HA does, and flips the switch.
describe("Home Assistant device discovery", { skip: jinjaUnavailable() ?? false }, () => {
  let broker: Broker;
  let ha: MqttRecorder;
  let server: Chronyd;
  let client: Chronyd;
  let run: RunningNode | undefined;
  const node = (haDiscovery: boolean) =>
    startNode({
      broker_url: broker.url,
      sbc_id: "HA1",
      groups: ["cams"],
      batch_duration: 1,
      sync_interval: 1,
      chrony_host: "127.0.0.1",
      chrony_port: client.cmdPort,
      ha_discovery: haDiscovery,
    });
  const discovery = () =>
    ha
      .on(TOPIC)
      .filter((m) => m.text !== "")
      .map((m) => m.json() as Discovery);
  const latest = (topic: string) => ha.on(topic).at(-1)?.text;
  const render = (c: Component, value: string) =>
    renderTemplates([{ template: c.value_template!, value }])[0]!;

  before(async () => {
    broker = await startMosquitto();
    server = await startChronyServer();
    client = await startChronyClient(server.port);
    ha = await MqttRecorder.connect(broker.url, ["homeassistant/#", "labx/#"], 5);
    run = await node(true);
  });
  after(async () => {
    await run?.stop();
    await ha?.close();
    await client?.stop();
    await server?.stop();
    await broker?.stop();
  });

  it("a retained device message with HA's documented fields, whose every template renders on the node's payloads", async () => {
    const d = await ha.waitFor(() => discovery()[0], 15_000, "discovery");
    assert.ok(validDiscovery(d), JSON.stringify(validDiscovery.errors, null, 2));
    const platforms = Object.values(d.cmps).map((c) => `${c.p}:${c.unique_id}`);
    assert.deepEqual(platforms.sort(), [
      "binary_sensor:labx_HA1_clock_synced",
      "camera:labx_HA1_preview",
      "sensor:labx_HA1_batches",
      "sensor:labx_HA1_clock_offset",
      "sensor:labx_HA1_free_disk",
      "sensor:labx_HA1_root_dispersion",
      "sensor:labx_HA1_state",
      "switch:labx_HA1_recording",
    ]);
    // HA restarted later finds it retained.
    const later = await MqttRecorder.connect(broker.url, [TOPIC], 5);
    try {
      const m = await later.waitFor(() => later.on(TOPIC)[0], 5000, "retained discovery");
      assert.equal(m.retain, true);
    } finally {
      await later.close();
    }
    assert.equal(latest(d.availability_topic), d.payload_available);
    await ha.waitFor(
      () => ha.jsonOn<{ synced: boolean }>("labx/HA1/clock").find((c) => c.synced),
      20_000,
      "a synced clock",
    );
    const c = d.cmps;
    // The camera has no state to render: its topic carries the image itself (checked while recording).
    const jobs = Object.entries(c)
      .filter(([, comp]) => comp.p !== "camera")
      .map(([key, comp]) => ({
        key,
        template: comp.value_template!,
        value: latest(comp.state_topic!)!,
      }));
    assert.ok(
      jobs.every((j) => j.value !== undefined),
      "every state topic has a retained payload",
    );
    const out = Object.fromEntries(renderTemplates(jobs).map((v, i) => [jobs[i]!.key, v]));
    assert.equal(out.recording, c.recording!.state_off);
    assert.equal(out.state, "idle");
    assert.equal(out.batches, "0");
    assert.equal(out.clock_synced, c.clock_synced!.payload_on);
    for (const k of ["clock_offset", "root_dispersion", "free_disk"])
      assert.ok(Number.isFinite(Number(out[k])) && out[k] !== "", `${k} rendered ${out[k]}`);
    assert.ok(Number(out.free_disk) > 0);
  });

  it("flipping the switch over MQTT starts and stops recording, and the switch state follows", async () => {
    const sw = discovery().at(-1)!.cmps.recording!;
    const switchState = () => {
      const v = latest(sw.state_topic!);
      return v === undefined ? undefined : render(sw, v);
    };
    await ha.publish(sw.command_topic!, sw.payload_on!, { qos: 1 });
    await ha.waitFor(() => (switchState() === sw.state_on ? true : undefined), 20_000, "switch ON");
    const batches = discovery().at(-1)!.cmps.batches!;
    await ha.waitFor(
      () => (Number(render(batches, latest(batches.state_topic!)!)) >= 2 ? true : undefined),
      20_000,
      "the batches sensor to count",
    );
    // HA's MQTT camera shows what arrives on its topic as an image file: a JPEG, as it comes.
    const camera = discovery().at(-1)!.cmps.preview!;
    const image = await ha.waitFor(() => ha.on(camera.topic!)[0], 20_000, "a preview on the camera's topic");
    assert.ok(isJpeg(image.bytes) && jpegSize(image.bytes)!.width > 0);
    await ha.publish(sw.command_topic!, sw.payload_off!, { qos: 1 });
    await ha.waitFor(() => (switchState() === sw.state_off ? true : undefined), 20_000, "switch OFF");
  });

  it("sends the device message again when HA announces itself online", async () => {
    const before = discovery().length;
    await ha.publish("homeassistant/status", "online", { qos: 1 });
    await ha.waitFor(
      () => (discovery().length > before ? true : undefined),
      10_000,
      "discovery after HA's birth",
    );
  });

  it("turned off, the node removes its device with an empty retained message", async () => {
    await run!.stop();
    run = await node(false);
    await ha.waitFor(() => (latest(TOPIC) === "" ? true : undefined), 15_000, "the removal");
    const fresh = await MqttRecorder.connect(broker.url, ["labx/HA1/availability"], 5);
    try {
      await fresh.waitFor(
        () => fresh.on("labx/HA1/availability")[0],
        5000,
        "a retained message (broker round trip)",
      );
      await fresh.client.subscribeAsync(TOPIC, { qos: 1 });
      await fresh.client.publishAsync("labx/probe", "x", { qos: 1 }); // one more round trip after the SUBACK
      assert.deepEqual(fresh.on(TOPIC), [], "nothing retained on the discovery topic any more");
    } finally {
      await fresh.close();
    }
  });
});
