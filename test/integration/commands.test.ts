import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort } from "../helpers/ports.js";
import { dataDirEntries, startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { processesIn } from "../helpers/processes.js";

describe("commands and their error codes (mosquitto, MQTT 5)", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  let run: RunningNode;
  const N = "CMD01";
  const cmd = (payload: Record<string, unknown>) => rec.command("labx", N, N, payload);

  before(async () => {
    broker = await startMosquitto();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    run = await startNode({ broker_url: broker.url, sbc_id: N, batch_duration: 2 });
  });
  after(async () => {
    await run?.stop();
    await rec?.close();
    await broker?.stop();
  });

  const rawReply = async (payload: string | Buffer) => {
    const before = rec.on(`labx/${N}/reply`).length;
    await rec.publish(`labx/${N}/cmd`, payload);
    return rec.waitFor(() => rec.jsonOn(`labx/${N}/reply`)[before], 10_000, "reply");
  };

  it("INVALID_JSON for text that is neither JSON nor a word, and for invalid UTF-8", async () => {
    assert.equal((await rawReply("{not json")).code, "INVALID_JSON");
    assert.equal((await rawReply(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).code, "INVALID_JSON");
  });

  it("INVALID_PAYLOAD for wrong types, unknown fields, path names, and non-objects", async () => {
    for (const bad of [
      { cmd: "start", duration: "ten" },
      { cmd: "start", batch_duration: 0 },
      { cmd: "start", session: "../etc" },
      { cmd: "start", session: "/abs" },
      { cmd: "start", colour: "red" },
      { cmd: "stop", extra: 1 },
    ]) {
      const r = await cmd(bad);
      assert.equal(r.code, "INVALID_PAYLOAD", JSON.stringify(bad));
      assert.equal(r.ok, false);
      assert.ok(typeof r.message === "string" && r.message.length > 0);
    }
    assert.equal((await rawReply("[1,2]")).code, "INVALID_PAYLOAD");
    assert.equal((await rawReply('{"id":"x"}')).code, "INVALID_PAYLOAD");
    // Nothing was created for the refused sessions.
    assert.deepEqual(dataDirEntries(run.dataDir), []);
  });

  it("PAYLOAD_TOO_LARGE before parsing", async () => {
    const r = await rawReply(Buffer.alloc(70_000, 0x20));
    assert.equal(r.code, "PAYLOAD_TOO_LARGE");
  });

  it("UNKNOWN_CMD, echoing id and cmd", async () => {
    const r = await cmd({ cmd: "dance", id: "u1" });
    assert.deepEqual([r.code, r.id, r.cmd], ["UNKNOWN_CMD", "u1", "dance"]);
    assert.equal((await rawReply("dance")).code, "UNKNOWN_CMD");
  });

  it("NOT_RECORDING on stop when idle", async () => {
    assert.equal((await cmd({ cmd: "stop" })).code, "NOT_RECORDING");
  });

  it("BAD_SCHEDULE for at in the past or beyond 24 h", async () => {
    assert.equal((await cmd({ cmd: "start", at: "2020-01-01T00:00:00Z" })).code, "BAD_SCHEDULE");
    assert.equal((await cmd({ cmd: "start", at: Date.now() / 1000 + 25 * 3600 })).code, "BAD_SCHEDULE");
  });

  it("ALREADY_RECORDING, then SESSION_EXISTS for a finished session's name", async () => {
    assert.equal((await cmd({ cmd: "start", session: "s1" })).ok, true);
    const again = await cmd({ cmd: "start", session: "s2" });
    assert.equal(again.code, "ALREADY_RECORDING");
    assert.equal((await cmd({ cmd: "status" })).ok, true);
    assert.equal((await cmd({ cmd: "stop" })).ok, true);
    assert.equal((await cmd({ cmd: "start", session: "s1" })).code, "SESSION_EXISTS");
  });

  it("stop sent while start is still waiting for its first frame: both answer ok, in that order", async () => {
    await rec.publish(`labx/${N}/cmd`, JSON.stringify({ cmd: "start", id: "race-start", session: "race" }));
    await rec.publish(`labx/${N}/cmd`, JSON.stringify({ cmd: "stop", id: "race-stop" }));
    const stop = await rec.waitFor(
      () => rec.jsonOn(`labx/${N}/reply`).find((r) => r.id === "race-stop"),
      20_000,
      "stop",
    );
    const start = rec.jsonOn(`labx/${N}/reply`).find((r) => r.id === "race-start")!;
    assert.equal(start.ok, true, JSON.stringify(start));
    assert.equal(stop.ok, true, JSON.stringify(stop));
    const replies = rec.jsonOn(`labx/${N}/reply`).map((r) => r.id);
    assert.ok(replies.indexOf("race-start") < replies.indexOf("race-stop"));
  });

  it("two starts back to back (the second arrives during the first's disk check): one ok, one ALREADY_RECORDING, one ffmpeg", async () => {
    // Not awaited in between: both arrive in one read, as in the fuzz run that found this.
    await Promise.all([
      rec.publish(`labx/${N}/cmd`, JSON.stringify({ cmd: "start", id: "twin-a" })),
      rec.publish(`labx/${N}/cmd`, JSON.stringify({ cmd: "start", id: "twin-b" })),
    ]);
    const replies = await rec.waitFor(
      () => {
        const r = rec.jsonOn(`labx/${N}/reply`).filter((x) => String(x.id).startsWith("twin-"));
        return r.length === 2 ? r : undefined;
      },
      20_000,
      "both replies",
    );
    assert.deepEqual(replies.map((r) => (r.ok ? "ok" : r.code)).sort(), ["ALREADY_RECORDING", "ok"]);
    const session = String(replies.find((r) => r.ok)!.session);
    assert.equal(processesIn(path.join(run.dataDir, session), "ffmpeg").length, 1, "exactly one ffmpeg");
    assert.equal((await rec.command("labx", N, N, { cmd: "stop" })).ok, true);
  });
  it("INTERNAL when the session folder cannot be created (a file is in its place)", async () => {
    writeFileSync(path.join(run.dataDir, "blocked"), "not a folder");
    const r = await cmd({ cmd: "start", session: "blocked" });
    assert.equal(r.code, "INTERNAL");
    assert.match(String(r.message), /EEXIST|ENOTDIR/);
    const status = await cmd({ cmd: "status" });
    assert.equal((status.state as { state: string }).state, "idle");
  });

  it("a scheduled start records from `at` on", async () => {
    const at = Date.now() + 1500;
    const r = await cmd({ cmd: "start", session: "timed", at: new Date(at).toISOString(), duration: 1 });
    assert.equal((r.state as { state: string }).state, "scheduled");
    const ended = await rec.waitFor(
      () => rec.jsonOn(`labx/${N}/event`).find((e) => e.type === "session_ended" && e.session === "timed"),
      20_000,
      "scheduled session to end",
    );
    assert.ok(Number(ended.batches) >= 1);
    const first = rec.jsonOn(`labx/${N}/batch`).find((b) => b.session === "timed")!;
    assert.ok(Date.parse(String(first.start)) >= at, `first frame ${String(first.start)} is not before at`);
  });

  it("a scheduled start can be cancelled by stop before it begins", async () => {
    const r = await cmd({ cmd: "start", session: "later", at: new Date(Date.now() + 60_000).toISOString() });
    assert.equal((r.state as { state: string }).state, "scheduled");
    const s = await cmd({ cmd: "stop" });
    assert.equal((s.state as { state: string }).state, "idle");
    assert.ok(!dataDirEntries(run.dataDir).includes("later"));
  });

  it("answers on the MQTT 5 Response Topic with the Correlation Data", async () => {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    try {
      await client.subscribeAsync("my/replies", { qos: 1 });
      const got = new Promise<{ payload: string; corr: string | undefined }>((resolve) =>
        client.on("message", (_t, payload, packet) =>
          resolve({ payload: payload.toString(), corr: packet.properties?.correlationData?.toString() }),
        ),
      );
      await client.publishAsync(`labx/${N}/cmd`, JSON.stringify({ cmd: "status", id: "v5" }), {
        qos: 1,
        properties: { responseTopic: "my/replies", correlationData: Buffer.from("corr-7") },
      });
      const { payload, corr } = await got;
      assert.equal(corr, "corr-7");
      assert.equal(JSON.parse(payload).id, "v5");
    } finally {
      await client.endAsync();
    }
  });

  it("every payload the node published matches its schema", () => {
    assert.ok(assertContract(rec.messages, "labx", N) > 20);
  });
});

describe("camera and disk errors", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  const nodes: RunningNode[] = [];
  before(async () => {
    broker = await startAedes();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await rec?.close();
    await broker?.stop();
  });

  it("CAMERA_UNAVAILABLE for a missing V4L2 device (no V4L2 exists on this machine: the device path is simply absent)", async () => {
    const n = await startNode({ broker_url: broker.url, sbc_id: "CAM1", camera: "/dev/video99" });
    nodes.push(n);
    const r = await rec.command("labx", "CAM1", "CAM1", { cmd: "start" });
    assert.equal(r.code, "CAMERA_UNAVAILABLE");
    assert.deepEqual(dataDirEntries(n.dataDir), []);
  });

  it("CAMERA_UNAVAILABLE for a stream nobody serves (real ffmpeg fails to open it)", async () => {
    const port = await freePort();
    const n = await startNode({ broker_url: broker.url, sbc_id: "CAM2", camera: `tcp://127.0.0.1:${port}` });
    nodes.push(n);
    const r = await rec.command("labx", "CAM2", "CAM2", { cmd: "start", session: "nocam" });
    assert.equal(r.code, "CAMERA_UNAVAILABLE", JSON.stringify(r));
    assert.match(String(r.message), /Connection refused|failed/i);
    const status = await rec.command("labx", "CAM2", "CAM2", { cmd: "status" });
    assert.equal((status.state as { state: string }).state, "idle");
  });

  it("DISK_FULL when free space is below --min-free-mb", async () => {
    const n = await startNode({ broker_url: broker.url, sbc_id: "DSK1", min_free_mb: 1024 * 1024 * 1024 });
    nodes.push(n);
    const r = await rec.command("labx", "DSK1", "DSK1", { cmd: "start" });
    assert.equal(r.code, "DISK_FULL");
    assert.match(String(r.message), /MiB free/);
  });
});

describe("groups, all, and a bare word from mosquitto_pub", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  const nodes: RunningNode[] = [];
  before(async () => {
    broker = await startMosquitto();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const dir = tempDir();
    mkdirSync(path.join(dir, "a"));
    mkdirSync(path.join(dir, "b"));
    nodes.push(
      await startNode({
        broker_url: broker.url,
        sbc_id: "GA",
        groups: ["cams", "left"],
        data_dir: path.join(dir, "a"),
      }),
    );
    nodes.push(
      await startNode({
        broker_url: broker.url,
        sbc_id: "GB",
        groups: ["cams"],
        data_dir: path.join(dir, "b"),
      }),
    );
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await rec?.close();
    await broker?.stop();
  });

  it("a group command is answered by each member on its own reply topic, and only by members", async () => {
    await rec.publish("labx/cams/cmd", JSON.stringify({ cmd: "status", id: "g1" }));
    await rec.waitFor(() =>
      ["GA", "GB"].every((n) => rec.jsonOn(`labx/${n}/reply`).some((r) => r.id === "g1")) ? true : undefined,
    );
    await rec.publish("labx/left/cmd", JSON.stringify({ cmd: "status", id: "g2" }));
    await rec.waitFor(() => rec.jsonOn("labx/GA/reply").find((r) => r.id === "g2"));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rec.jsonOn("labx/GB/reply").filter((r) => r.id === "g2").length, 0);
  });

  it("all reaches every node", async () => {
    await rec.publish("labx/all/cmd", JSON.stringify({ cmd: "status", id: "a1" }));
    await rec.waitFor(() =>
      ["GA", "GB"].every((n) => rec.jsonOn(`labx/${n}/reply`).some((r) => r.id === "a1")) ? true : undefined,
    );
  });

  it("`mosquitto_pub -m start` to a group starts both, `stop` to all stops both", async () => {
    execFileSync("mosquitto_pub", ["-p", String(broker.port), "-t", "labx/cams/cmd", "-m", "start"]);
    for (const n of ["GA", "GB"])
      await rec.waitFor(
        () => rec.jsonOn(`labx/${n}/reply`).find((r) => r.cmd === "start" && r.ok === true),
        20_000,
        `${n} started`,
      );
    await rec.waitFor(
      () => (["GA", "GB"].every((n) => rec.on(`labx/${n}/batch`).length >= 1) ? true : undefined),
      30_000,
      "a batch each",
    );
    execFileSync("mosquitto_pub", ["-p", String(broker.port), "-t", "labx/all/cmd", "-m", "stop"]);
    for (const n of ["GA", "GB"])
      await rec.waitFor(
        () => rec.jsonOn(`labx/${n}/reply`).find((r) => r.cmd === "stop" && r.ok === true),
        20_000,
        `${n} stopped`,
      );
    for (const n of ["GA", "GB"]) assert.ok(assertContract(rec.messages, "labx", n) > 5);
  });
});
