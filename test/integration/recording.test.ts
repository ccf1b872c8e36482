import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readManifest } from "../../node/data/manifest.js";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { assertPlayable, countFrames, mkvFiles, sha256 } from "../helpers/media.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";

const FPS = 30;
const PERIOD_S = 1 / FPS;
const us = (iso: string): number => {
  const m = /\.(\d+)Z$/.exec(iso)!;
  return Math.floor(Date.parse(iso) / 1000) * 1e6 + Number(m[1]!.padEnd(6, "0"));
};

for (const [name, startBroker] of [
  ["mosquitto", startMosquitto],
  ["aedes", startAedes],
] as const) {
  describe(`start → batches → stop on ${name}`, () => {
    let broker: Broker;
    let rec: MqttRecorder;
    let run: RunningNode;
    let batches: BatchReady[];
    let stopReply: Record<string, unknown>;
    const node = `REC_${name}`;

    before(async () => {
      broker = await startBroker();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({ broker_url: broker.url, sbc_id: node, batch_duration: 2, framerate: FPS });
      const started = await rec.command("labx", node, node, { cmd: "start", session: "exp01" });
      assert.equal(started.ok, true, JSON.stringify(started));
      await rec.waitFor(
        () => (rec.on(`labx/${node}/batch`).length >= 3 ? true : undefined),
        30_000,
        "3 batches",
      );
      stopReply = await rec.command("labx", node, node, { cmd: "stop" });
      batches = rec.jsonOn<BatchReady>(`labx/${node}/batch`);
    });

    after(async () => {
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    });

    it("replies ok to start and stop, and the stop reply comes after the last batch", () => {
      assert.equal(stopReply.ok, true);
      assert.ok(batches.length >= 4, `at least 3 full batches and the last: ${batches.length}`);
      assert.equal(batches.at(-1)!.last, true);
      assert.equal(batches.filter((b) => b.last).length, 1);
      for (const b of batches) {
        // The synthetic camera's exact schedule, in µs.
        assert.equal(b.time_source, "synthetic");
        assert.equal(b.time_resolution_us, 1);
      }
      assert.equal((stopReply.state as { state: string }).state, "idle");
    });

    it("publishes only schema-valid payloads", () => {
      const n = assertContract(rec.messages, "labx", node);
      assert.ok(n >= batches.length + 4, `checked ${n} messages`);
      assert.deepEqual(
        rec.on(`labx/${node}/availability`).map((m) => m.text),
        ["online"],
      );
    });

    it("manifest lines = batch events = files on disk, hashes and sizes match", () => {
      const dir = path.join(run.dataDir, "exp01");
      assert.deepEqual(readManifest(path.join(dir, "manifest.jsonl")), batches);
      const files = mkvFiles(dir);
      assert.deepEqual(
        files.map((f) => `exp01/${f}`),
        batches.map((b) => b.file),
      );
      batches.forEach((b, i) => {
        assert.equal(b.seq, i);
        const file = path.join(run.dataDir, b.file);
        assert.equal(sha256(file), b.sha256);
        assert.equal(readFileSync(file).length, b.bytes);
      });
    });

    it("each batch's frame count is what ffprobe reads, and every batch plays", () => {
      for (const b of batches) {
        const file = path.join(run.dataDir, b.file);
        assert.equal(countFrames(file), b.frames, b.file);
        assertPlayable(file);
      }
    });

    it("each batch has a sidecar with every frame's wall-clock time, indices continuing across batches", () => {
      let next = 0;
      for (const b of batches) {
        const rows = readFileSync(path.join(run.dataDir, b.frames_file), "utf8").trim().split("\n");
        assert.equal(rows[0], "frame,batch_frame,pts_s,epoch_s,time_utc");
        const frames = rows.slice(1).map((r) => r.split(","));
        assert.equal(frames.length, b.frames);
        assert.equal(frames[0]![4], b.start, "first row is the batch start");
        assert.equal(frames[0]![2], "0.000000");
        frames.forEach((f, i) => {
          assert.equal(Number(f[0]), next + i);
          assert.equal(Number(f[1]), i);
        });
        const epochs = frames.map((f) => Number(f[3]));
        for (let i = 1; i < epochs.length; i++) assert.ok(epochs[i]! > epochs[i - 1]!);
        assert.ok(
          us(b.end) / 1e6 - epochs.at(-1)! <= PERIOD_S + 1e-6,
          "the last frame is within a period of the end",
        );
        next += b.frames;
      }
    });

    it("batches are contiguous and cover the recording at the source's frame rate", () => {
      for (let i = 1; i < batches.length; i++) {
        const gap = us(batches[i]!.start) - us(batches[i - 1]!.end);
        assert.ok(Math.abs(gap) <= PERIOD_S * 1e6, `gap of ${gap} µs before batch ${i}`);
      }
      for (const b of batches.slice(0, -1)) {
        assert.ok(Math.abs(b.duration_s - 2) <= PERIOD_S + 1e-6, `batch ${b.seq} lasts ${b.duration_s} s`);
        assert.ok(
          Math.abs(b.frames - b.duration_s * FPS) <= 1,
          `batch ${b.seq}: ${b.frames} frames in ${b.duration_s} s`,
        );
      }
      const total = batches.reduce((n, b) => n + b.frames, 0);
      const span = (us(batches.at(-1)!.end) - us(batches[0]!.start)) / 1e6;
      assert.ok(Math.abs(total - span * FPS) <= 2, `${total} frames over ${span} s`);
    });
  });
}

describe("recording while the CPU is saturated", () => {
  it("keeps every batch: no timestamp collisions, no dropped batch writer, contiguous batches", async () => {
    const { spawn } = await import("node:child_process");
    const hogs: ReturnType<typeof spawn>[] = [];
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      for (let i = 0; i < 2; i++) hogs.push(spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({ broker_url: broker.url, sbc_id: "LOAD1", batch_duration: 2 });
      const r = await rec.command("labx", "LOAD1", "LOAD1", { cmd: "start", session: "busy", duration: 7 });
      assert.equal(r.ok, true);
      const ended = await rec.waitFor(
        () => rec!.jsonOn("labx/LOAD1/event").find((e) => e.type === "session_ended"),
        60_000,
        "session end",
      );
      assert.equal(ended.reason, "completed", JSON.stringify(rec.jsonOn("labx/LOAD1/event")));
      const batches = rec.jsonOn<BatchReady>("labx/LOAD1/batch");
      assert.equal(batches.length, 4);
      assert.equal(
        batches.reduce((n, b) => n + b.frames, 0),
        7 * FPS,
      );
      for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
      for (const b of batches) assert.equal(countFrames(path.join(run!.dataDir, b.file)), b.frames);
    } finally {
      hogs.forEach((h) => h.kill("SIGKILL"));
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});

describe("H.264 encoding", () => {
  it("forces a keyframe at each boundary: batches of exactly batch_duration, each opening on a keyframe", async () => {
    const broker = await startAedes();
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    const run = await startNode({ broker_url: broker.url, sbc_id: "H264", batch_duration: 2, codec: "h264" });
    try {
      const r = await rec.command("labx", "H264", "H264", { cmd: "start", session: "avc", duration: 6 });
      assert.equal(r.ok, true);
      await rec.waitFor(
        () => rec.jsonOn("labx/H264/event").find((e) => e.type === "session_ended"),
        60_000,
        "end",
      );
      const batches = rec.jsonOn<BatchReady>("labx/H264/batch");
      assert.deepEqual(
        batches.map((b) => b.frames),
        [60, 60, 60],
      );
      // The last batch ends at its last frame's pts + framecrc's whole-µs duration: within 1 µs of 2 s.
      for (const b of batches) assert.ok(Math.abs(b.duration_s - 2) <= 1e-6, `${b.seq}: ${b.duration_s} s`);
      const { execFileSync } = await import("node:child_process");
      for (const b of batches) {
        const file = path.join(run.dataDir, b.file);
        const first = execFileSync("ffprobe", [
          "-v",
          "error",
          "-select_streams",
          "v:0",
          "-show_entries",
          "packet=flags",
          "-of",
          "csv=p=0",
          "-read_intervals",
          "%+#1",
          file,
        ])
          .toString()
          .trim();
        assert.match(first, /^K/, `${b.file} opens on a keyframe`);
        const codec = execFileSync("ffprobe", [
          "-v",
          "error",
          "-select_streams",
          "v:0",
          "-show_entries",
          "stream=codec_name",
          "-of",
          "csv=p=0",
          file,
        ])
          .toString()
          .trim();
        assert.equal(codec, "h264");
        assertPlayable(file);
      }
    } finally {
      await run.stop();
      await rec.close();
      await broker.stop();
    }
  });
});
