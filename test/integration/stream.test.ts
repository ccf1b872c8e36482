import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady } from "../../node/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { assertPlayable, countFrames } from "../helpers/media.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort } from "../helpers/ports.js";
import { startNode } from "../helpers/node.js";

describe("a stream URL camera", () => {
  it("copies an MJPEG-over-TCP stream into contiguous batches, warning that its times are coarse", async () => {
    const port = await freePort();
    // A separate ffmpeg plays an IP camera serving raw MJPEG at 25 fps.
    const camera = spawn(
      "ffmpeg",
      [
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-c:v",
        "mjpeg",
        "-f",
        "mjpeg",
        `tcp://127.0.0.1:${port}?listen=1`,
      ],
      { stdio: "ignore" },
    );
    const broker = await startAedes();
    const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    await new Promise((r) => setTimeout(r, 500));
    const run = await startNode({
      broker_url: broker.url,
      sbc_id: "IPCAM",
      batch_duration: 2,
      camera: `tcp://127.0.0.1:${port}`,
    });
    try {
      const r = await rec.command("labx", "IPCAM", "IPCAM", { cmd: "start", session: "ip", duration: 5 });
      assert.equal(r.ok, true, JSON.stringify(r));
      await rec.waitFor(
        () => rec.jsonOn("labx/IPCAM/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const warning = rec.jsonOn("labx/IPCAM/event").find((e) => e.type === "coarse_timestamps");
      assert.match(String(warning?.message), /1\/25 s: frame and batch times are quantized to 40 ms/);
      const batches = rec.jsonOn<BatchReady>("labx/IPCAM/batch");
      assert.equal(batches.length, 3);
      for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
      const total = batches.reduce((n, b) => n + b.frames, 0);
      assert.ok(Math.abs(total - 125) <= 3, `${total} frames in 5 s at 25 fps`);
      for (const b of batches) {
        const file = path.join(run.dataDir, b.file);
        assert.equal(countFrames(file), b.frames);
        assertPlayable(file);
        // Stream copy: the camera's own MJPEG, at its own size.
        const info = execFileSync("ffprobe", [
          "-v",
          "error",
          "-show_entries",
          "stream=codec_name,width",
          "-of",
          "csv=p=0",
          file,
        ])
          .toString()
          .trim();
        assert.equal(info, "mjpeg,320");
      }
      assert.ok(assertContract(rec.messages, "labx", "IPCAM") > 5);
    } finally {
      camera.kill("SIGKILL");
      await run.stop();
      await rec.close();
      await broker.stop();
    }
  });
});
