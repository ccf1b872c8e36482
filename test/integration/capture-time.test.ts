import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startFakeCamera, type FakeCamera } from "../helpers/fake-camera-process.js";
import type { Broker } from "../helpers/mosquitto.js";
import { mjpegBytes } from "../helpers/media.js";
import { startNode, type RunningNode } from "../helpers/node.js";

const FPS = 30;
const PERIOD_US = 1e6 / FPS;

// The fake camera serves raw MJPEG over TCP or HTTP multipart (what mjpg-streamer, Motion and ESP32-CAM
// serve). With --stream-format and, by default, without: the node finds the format itself.
// A camera slow to start (rpicam-vid --listen, a waking IP camera) is silent for 3 s after every
// connection, the node's look at its format included: the look waits for its first bytes.
const CASES: { name: string; protocol: "tcp" | "http"; streamFormat: string; silentMs?: number }[] = [
  { name: "raw MJPEG over TCP, --stream-format mjpeg", protocol: "tcp", streamFormat: "mjpeg" },
  { name: "raw MJPEG over TCP, format found by the node", protocol: "tcp", streamFormat: "" },
  { name: "HTTP multipart MJPEG, format found by the node", protocol: "http", streamFormat: "" },
  {
    name: "raw MJPEG over TCP, silent for 3 s after connecting",
    protocol: "tcp",
    streamFormat: "",
    silentMs: 3000,
  },
  {
    name: "HTTP multipart MJPEG, silent for 3 s after connecting",
    protocol: "http",
    streamFormat: "",
    silentMs: 3000,
  },
];

describe("batch times come from capture (fake camera with ground truth)", () => {
  for (const c of CASES)
    it(`${c.name}: each batch's start and every frame's time match the camera's send log within one frame period`, async () => {
      let camera: FakeCamera | undefined;
      let broker: Broker | undefined;
      let rec: MqttRecorder | undefined;
      let run: RunningNode | undefined;
      try {
        camera = await startFakeCamera(FPS, undefined, c.protocol, c.silentMs ?? 0);
        broker = await startAedes();
        rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
        run = await startNode({
          broker_url: broker.url,
          sbc_id: "TRUTH",
          camera: camera.url,
          stream_format: c.streamFormat,
          batch_duration: 1,
          disable_sync: true,
        });
        assert.equal(
          (await rec.command("labx", "TRUTH", "TRUTH", { cmd: "start", session: "gt", duration: 4 })).ok,
          true,
        );
        if (c.silentMs && c.protocol === "tcp")
          assert.ok(
            rec.jsonOn<NodeState>("labx/TRUTH/state").some((s) => s.camera_wait_until),
            "the wait for the silent camera is in the state",
          );
        const ended = await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>("labx/TRUTH/event").find((e) => e.type === "session_ended"),
          30_000,
          "end",
        );
        assert.equal(ended.reason, "completed");
        assert.equal(rec.jsonOn("labx/TRUTH/event").filter((e) => e.type === "coarse_timestamps").length, 0);
        const sent = camera.sent();
        // How many batches a 4 s session makes depends on where its first frame falls on the 1 s grid:
        // what the contract promises is checked instead (numbering, contiguity, every frame kept below).
        const batches = rec.jsonOn<BatchReady>("labx/TRUTH/batch");
        assert.deepEqual(
          batches.map((b) => b.seq),
          batches.map((_, i) => i),
        );
        for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
        assert.equal(batches.at(-1)!.last, true);
        for (const b of batches) {
          // Arrival stamps of the raw MJPEG demuxer: 1/1200000 s.
          assert.equal(b.time_source, "arrival");
          assert.equal(b.time_resolution_us, 0.833);
        }
        const errors: number[] = [];
        let previous: number | null = null;
        let firstNumber: number | null = null;
        for (const b of batches) {
          const bytes = mjpegBytes(path.join(run!.dataDir, b.file));
          const numbers = frameNumbers(bytes);
          assert.equal(numbers.length, b.frames, `${b.file}: frames in the file`);
          // The camera's JPEGs only: no multipart part headers between them.
          assert.ok(!bytes.includes("--labxframe"), `${b.file} holds no part headers`);
          assert.ok(!bytes.includes("Content-Type"), `${b.file} holds no part headers`);
          numbers.forEach(
            (n, i) => i > 0 && assert.equal(n, numbers[i - 1]! + 1, "no frame lost inside a batch"),
          );
          if (previous !== null) assert.equal(numbers[0], previous + 1, "no frame lost between batches");
          // The session's first frame is the first ffmpeg's connection got: the frame before it went
          // to another connection (the look), before this one's silence, or to none.
          else if (c.silentMs && sent.has(numbers[0]! - 1))
            assert.ok(
              sent.get(numbers[0]!)! - sent.get(numbers[0]! - 1)! > c.silentMs * 500,
              "first frame kept",
            );
          previous = numbers.at(-1)!;
          firstNumber ??= numbers[0]!;
          const rows = readFileSync(path.join(run!.dataDir, b.frames_file), "utf8")
            .trim()
            .split("\n")
            .slice(1);
          rows.forEach((row, i) => {
            const recordedUs = Math.round(Number(row.split(",")[3]) * 1e6);
            errors.push(recordedUs - sent.get(numbers[i]!)!);
          });
          const startErr =
            Math.round(Date.parse(b.start.slice(0, 23) + "Z") * 1000 + Number(b.start.slice(23, 26))) -
            sent.get(numbers[0]!)!;
          assert.ok(Math.abs(startErr) < PERIOD_US, `${b.file}: start ${startErr} µs from the truth`);
        }
        for (const e of errors) assert.ok(Math.abs(e) < PERIOD_US, `a frame ${e} µs from the truth`);
        const sorted = errors.map(Math.abs).sort((x, y) => x - y);
        const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
        console.log(
          `${c.name}: capture-time error over ${sorted.length} frames: p50 ${q(0.5)} µs, p99 ${q(0.99)} µs, max ${sorted.at(-1)} µs`,
        );
        // The frames kept are consecutive (above) and cover the session's duration by the camera's clock.
        const coveredUs = sent.get(previous!)! - sent.get(firstNumber!)! + PERIOD_US;
        assert.ok(coveredUs >= 3.5e6, `the recorded frames span ${coveredUs} µs of a 4 s session`);
      } finally {
        camera?.stop();
        await run?.stop();
        await rec?.close();
        await broker?.stop();
      }
    });
});
