import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { assertPlayable, countFrames } from "../helpers/media.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import type { Broker } from "../helpers/mosquitto.js";
import { freePort, waitForListener } from "../helpers/ports.js";
import { startNode, type RunningNode } from "../helpers/node.js";

/** An IP camera played by ffmpeg: raw MJPEG at 25 fps over TCP, to one client, once (?listen=1). */
function oneConnectionCamera(port: number, size: string): ChildProcess {
  return spawn(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`],
      ...["-c:v", "mjpeg", "-f", "mjpeg", `tcp://127.0.0.1:${port}?listen=1`],
    ],
    { stdio: "ignore" },
  );
}

describe("a stream URL camera", () => {
  it("copies an MJPEG-over-TCP stream read with a coarse demuxer (--stream-format jpeg_pipe) into contiguous batches, warning that its times are coarse", async () => {
    const port = await freePort();
    let camera: ChildProcess | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      // A separate ffmpeg plays an IP camera serving raw MJPEG at 25 fps.
      camera = oneConnectionCamera(port, "320x240");
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      await waitForListener(port, 20_000);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "IPCAM",
        batch_duration: 2,
        camera: `tcp://127.0.0.1:${port}`,
        // ffmpeg's own pick for raw MJPEG (1/25 s stamps); also no look before ffmpeg, which this
        // one-connection camera (ffmpeg ?listen=1) would not survive.
        stream_format: "jpeg_pipe",
      });
      const r = await rec.command("labx", "IPCAM", "IPCAM", { cmd: "start", session: "ip", duration: 5 });
      assert.equal(r.ok, true, JSON.stringify(r));
      const ended = await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/IPCAM/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const events = rec.jsonOn<NodeEvent>("labx/IPCAM/event");
      assert.equal(ended.reason, "completed", JSON.stringify(events));
      assert.deepEqual(
        events.filter((e) => e.type === "recorder_restarted" || e.type === "gap"),
        [],
        "no restart, no gap",
      );
      const warning = rec.jsonOn("labx/IPCAM/event").find((e) => e.type === "coarse_timestamps");
      assert.match(String(warning?.message), /1\/25 s: frame and batch times are quantized to 40 ms/);
      // What the contract promises, whatever the grid: numbered from 0, contiguous, the last marked,
      // the whole duration covered, every frame ffmpeg reported in the files (below).
      const batches = rec.jsonOn<BatchReady>("labx/IPCAM/batch");
      assert.deepEqual(
        batches.map((b) => b.seq),
        batches.map((_, i) => i),
      );
      for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
      assert.equal(batches.at(-1)!.last, true);
      // The batches say how coarse their times are.
      for (const b of batches) assert.deepEqual([b.time_source, b.time_resolution_us], ["arrival", 40_000]);
      const span = (Date.parse(batches.at(-1)!.end) - Date.parse(batches[0]!.start)) / 1000;
      assert.ok(span >= 5 - 0.5, `the batches cover ${span} s of a 5 s session`);
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
      camera?.kill("SIGKILL");
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });

  it("a one-connection camera and no --stream-format: refused with the reason and the flag that helps, nothing recorded", async () => {
    const port = await freePort();
    let camera: ChildProcess | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      // ffmpeg's ?listen=1 serves one client, once: the node's look at its format is that client.
      camera = oneConnectionCamera(port, "160x120");
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      await waitForListener(port, 20_000);
      run = await startNode({ broker_url: broker.url, sbc_id: "ONECON", camera: `tcp://127.0.0.1:${port}` });
      const r = await rec.command("labx", "ONECON", "ONECON", { cmd: "start", session: "one" });
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, "CAMERA_UNAVAILABLE");
      assert.match(String(r.message), /single connection needs --stream-format/);
      assert.equal(rec.jsonOn("labx/ONECON/batch").length, 0);
    } finally {
      camera?.kill("SIGKILL");
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
