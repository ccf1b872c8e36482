import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady } from "../../node/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { ROOT, startNode, tempDir } from "../helpers/node.js";

const FPS = 30;
const PERIOD_US = 1e6 / FPS;

describe("batch times come from capture (fake camera with ground truth)", () => {
  it("each batch's start and every frame's time match the camera's send log within one frame period", async () => {
    const port = await freePort();
    const log = path.join(tempDir(), "sent.csv");
    const camera = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "test/helpers/fake-camera.ts"), String(port), String(FPS), log],
      {
        cwd: ROOT,
        stdio: "ignore",
      },
    );
    const broker = await startAedes();
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    await waitForPort(port, 20_000);
    const run = await startNode({
      broker_url: broker.url,
      sbc_id: "TRUTH",
      camera: `tcp://127.0.0.1:${port}`,
      stream_format: "mjpeg",
      batch_duration: 1,
      disable_sync: true,
    });
    try {
      assert.equal(
        (await rec.command("labx", "TRUTH", "TRUTH", { cmd: "start", session: "gt", duration: 4 })).ok,
        true,
      );
      await rec.waitFor(
        () => rec.jsonOn("labx/TRUTH/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      assert.equal(rec.jsonOn("labx/TRUTH/event").filter((e) => e.type === "coarse_timestamps").length, 0);
      const sent = new Map(
        readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split(",").map(Number) as [number, number]),
      );
      const batches = rec.jsonOn<BatchReady>("labx/TRUTH/batch");
      assert.equal(batches.length, 4);
      const errors: number[] = [];
      let previous: number | null = null;
      for (const b of batches) {
        const bytes = execFileSync(
          "ffmpeg",
          [
            "-v",
            "error",
            "-i",
            path.join(run.dataDir, b.file),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "mjpeg",
            "-",
          ],
          { maxBuffer: 64 << 20 },
        );
        const numbers = frameNumbers(bytes);
        assert.equal(numbers.length, b.frames, `${b.file}: frames in the file`);
        numbers.forEach(
          (n, i) => i > 0 && assert.equal(n, numbers[i - 1]! + 1, "no frame lost inside a batch"),
        );
        if (previous !== null) assert.equal(numbers[0], previous + 1, "no frame lost between batches");
        previous = numbers.at(-1)!;
        const rows = readFileSync(path.join(run.dataDir, b.frames_file), "utf8").trim().split("\n").slice(1);
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
        `capture-time error over ${sorted.length} frames: p50 ${q(0.5)} µs, p99 ${q(0.99)} µs, max ${sorted.at(-1)} µs`,
      );
    } finally {
      camera.kill("SIGTERM");
      await run.stop();
      await rec.close();
      await broker.stop();
    }
  });
});
