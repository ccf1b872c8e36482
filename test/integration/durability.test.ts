import assert from "node:assert/strict";
import { isoUs, parseSidecar } from "../../align/session-reader.js";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { readManifest } from "../../node/data/manifest.js";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import { assertPlayable, countFrames } from "../helpers/media.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, tempDir, type CliProcess } from "../helpers/node.js";
import { processesIn } from "../helpers/processes.js";
import { uniqueBatches } from "../helpers/delivery.js";

// Every test here runs the node as its own process (so kill -9 is real) against mosquitto with
// persistence, and a subscriber with a persistent session (clean: false, QoS 1): what a lab's
// collector script would use. Outages are real: mosquitto is stopped and started on the same port.
const OUTAGE_MS = Number(process.env.LABX_OUTAGE_MS ?? 60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Lab {
  port: number;
  persistence: string;
  broker: Broker;
  sub: MqttRecorder;
}

async function startLab(): Promise<Lab> {
  const persistence = tempDir("labx-mosq-db-");
  const broker = await startMosquitto(undefined, { persistenceDir: persistence });
  const sub = await MqttRecorder.connect(
    broker.url,
    ["labx/+/batch", "labx/+/event", "labx/+/availability"],
    4,
    {
      clientId: `collector-${process.pid}-${Date.now()}`,
      clean: false,
    },
  );
  return { port: broker.port, persistence, broker, sub };
}

function startNodeProcess(lab: Lab, id: string, dataDir: string, extra: string[] = []): CliProcess {
  return runCli([
    "node",
    "--broker-url",
    `mqtt://127.0.0.1:${lab.port}`,
    "--sbc-id",
    id,
    "--data-dir",
    dataDir,
    "--batch-duration",
    "2",
    "--disable-sync",
    "--log-level",
    "warn",
    ...extra,
  ]);
}

async function waitOnline(sub: MqttRecorder, id: string, count: number): Promise<void> {
  await sub.waitFor(
    () =>
      sub.on(`labx/${id}/availability`).filter((m) => m.text === "online").length >= count ? true : undefined,
    60_000,
    `${id} online ×${count}`,
  );
}

async function command(
  lab: Lab,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const ctl = await MqttRecorder.connect(`mqtt://127.0.0.1:${lab.port}`, [`labx/${id}/reply`]);
  try {
    return await ctl.command("labx", id, id, body);
  } finally {
    await ctl.close();
  }
}

/** Every manifest line reached the subscriber, in manifest order; returns the figures for the report. */
async function assertAllDelivered(
  t: TestContext,
  lab: Lab,
  id: string,
  manifestFile: string,
  restartedAt: number,
) {
  const manifest = readManifest(manifestFile);
  const last = manifest.at(-1)!;
  await lab.sub.waitFor(
    () => (uniqueBatches(lab.sub, id).batches.some((b) => b.seq === last.seq) ? true : undefined),
    60_000,
    `batch ${last.seq} delivered`,
  );
  const recoveryMs = Date.now() - restartedAt;
  const { batches, duplicates } = uniqueBatches(lab.sub, id);
  if (process.env.LABX_DEBUG)
    console.log(lab.sub.messages.map((m) => `${m.topic} ${m.text.slice(0, 60)}`).join("\n"));
  assert.deepEqual(batches, manifest, "every manifest line delivered, in order, with the same content");
  t.diagnostic(
    `${manifest.length} batches, 0 lost, ${duplicates} duplicates; all delivered ${recoveryMs} ms after the broker (or the node) came back`,
  );
  return { manifest, duplicates };
}

describe("durable announcements (real mosquitto restarts, real kill -9)", () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.sub.close();
    await lab.broker.stop();
  });

  it(`broker stopped for ${OUTAGE_MS / 1000} s mid-session: every batch reaches a persistent subscriber, in order`, async (t) => {
    const dataDir = tempDir();
    const node = startNodeProcess(lab, "DUR1", dataDir);
    try {
      await waitOnline(lab.sub, "DUR1", 1);
      assert.equal((await command(lab, "DUR1", { cmd: "start", session: "long" })).ok, true);
      await lab.sub.waitFor(() => lab.sub.jsonOn("labx/DUR1/batch")[0], 20_000, "first batch");
      await lab.broker.stop();
      const manifestFile = path.join(dataDir, "long", "manifest.jsonl");
      const before = readManifest(manifestFile).length;
      await sleep(OUTAGE_MS);
      const during = readManifest(manifestFile).length;
      assert.ok(
        during - before >= OUTAGE_MS / 2000 - 2,
        `the manifest grew by ${during - before} during the outage`,
      );
      lab.broker = await startMosquitto(lab.port, { persistenceDir: lab.persistence });
      const restartedAt = Date.now();
      await waitOnline(lab.sub, "DUR1", 2);
      assert.equal((await command(lab, "DUR1", { cmd: "stop" })).ok, true);
      await assertAllDelivered(t, lab, "DUR1", manifestFile, restartedAt);
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
    }
  });

  it("the same, with the node killed -9 during the outage and restarted before the broker returns", async (t) => {
    const dataDir = tempDir();
    let node = startNodeProcess(lab, "DUR2", dataDir);
    try {
      await waitOnline(lab.sub, "DUR2", 1);
      assert.equal((await command(lab, "DUR2", { cmd: "start", session: "killed" })).ok, true);
      await lab.sub.waitFor(() => lab.sub.jsonOn("labx/DUR2/batch")[0], 20_000, "first batch");
      await lab.broker.stop();
      await sleep(OUTAGE_MS / 2);
      node.child.kill("SIGKILL");
      await node.exited;
      // The restarted node waits for its broker; meanwhile it has recovered the interrupted session.
      node = startNodeProcess(lab, "DUR2", dataDir);
      await sleep(OUTAGE_MS / 2);
      const sessionDir = path.join(dataDir, "killed");
      assert.ok(
        existsSync(path.join(sessionDir, "session-end.json")),
        "the interrupted session is marked ended",
      );
      assert.deepEqual(processesIn(sessionDir, "ffmpeg"), [], "no ffmpeg outlived the killed node");
      lab.broker = await startMosquitto(lab.port, { persistenceDir: lab.persistence });
      const restartedAt = Date.now();
      const { manifest } = await assertAllDelivered(
        t,
        lab,
        "DUR2",
        path.join(sessionDir, "manifest.jsonl"),
        restartedAt,
      );
      assert.ok(
        manifest.some((b) => b.recovered),
        "the batch being written at the kill was recovered",
      );
      assert.ok(manifest.at(-1)!.last, "the recovered session's final batch is marked last");
      const ended = await lab.sub.waitFor(
        () =>
          lab.sub
            .jsonOn<NodeEvent>("labx/DUR2/event")
            .find((e) => e.type === "session_ended" && e.session === "killed"),
        20_000,
        "session_ended",
      );
      assert.equal(ended.reason, "interrupted");
      assert.equal(ended.batches, manifest.length);
      for (const b of manifest) assertPlayable(path.join(dataDir, b.file));
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
    }
  });

  it("power cut mid-batch (node and ffmpeg killed -9 together): the partial batch is remuxed, playable and announced at restart, with the session's latency correction", async (t) => {
    const dataDir = tempDir();
    // Recorded with a latency correction; restarted without one: recovery applies the session's own.
    let node = startNodeProcess(lab, "DUR3", dataDir, ["--latency-ms", "25"]);
    try {
      await waitOnline(lab.sub, "DUR3", 1);
      assert.equal((await command(lab, "DUR3", { cmd: "start", session: "cut" })).ok, true);
      await lab.sub.waitFor(() => lab.sub.jsonOn("labx/DUR3/batch")[1], 20_000, "two batches");
      await sleep(1000); // about half-way into the third
      const sessionDir = path.join(dataDir, "cut");
      const ffmpeg = processesIn(sessionDir, "ffmpeg");
      assert.equal(ffmpeg.length, 1);
      // As close to together as two signals get: neither can finish anything.
      process.kill(ffmpeg[0]!, "SIGKILL");
      node.child.kill("SIGKILL");
      await node.exited;
      const timeline = readFileSync(path.join(sessionDir, "ffmpeg-timeline.txt"), "utf8");
      const framesSeen = timeline.split("\n").filter((l) => /^0,/.test(l)).length;
      const restartedAt = Date.now();
      node = startNodeProcess(lab, "DUR3", dataDir);
      // Recovery runs at start, before the node connects: its session_ended comes after the batches.
      await lab.sub.waitFor(
        () =>
          lab.sub
            .jsonOn<NodeEvent>("labx/DUR3/event")
            .find((e) => e.type === "session_ended" && e.session === "cut"),
        30_000,
        "session_ended after recovery",
      );
      const { manifest } = await assertAllDelivered(
        t,
        lab,
        "DUR3",
        path.join(sessionDir, "manifest.jsonl"),
        restartedAt,
      );
      const recovered = manifest.filter((b) => b.recovered);
      assert.equal(recovered.length, 1, "one batch was open at the cut");
      const r = recovered[0]!;
      assert.ok(r.last);
      assert.ok(r.frames > 0, "the frames that reached the disk are kept");
      const file = path.join(dataDir, r.file);
      assertPlayable(file);
      assert.equal(countFrames(file), r.frames);
      assert.equal(r.start, manifest.at(-2)!.end, "contiguous with the batch before it");
      for (const b of manifest) {
        assert.equal(b.latency_ms, 25, `${b.file}: the session's correction`);
        assert.equal(isoUs(b.raw_start!) - isoUs(b.start), 25_000);
      }
      const rows = parseSidecar(readFileSync(path.join(dataDir, r.frames_file), "utf8"), r.file, r.seq);
      assert.equal(rows.length, r.frames);
      for (const row of rows) assert.equal(row.rawEpochUs - row.epochUs, 25_000);
      const inManifest = manifest.reduce((n, b) => n + b.frames, 0);
      t.diagnostic(
        `frames ffmpeg reported ${framesSeen}, in batches after recovery ${inManifest} (lost at the cut: ${framesSeen - inManifest})`,
      );
      assert.ok(
        framesSeen - inManifest <= 15,
        `at most ~0.5 s lost at a power cut (lost ${framesSeen - inManifest})`,
      );
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
    }
  });
});
