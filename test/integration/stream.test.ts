import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { NodeState } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
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
  it("a demuxer that stamps frames on a 1/25 s clock (--stream-format jpeg_pipe): refused with INEXACT_TIMES before any frame, nothing recorded", async () => {
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
        // ffmpeg's own pick for raw MJPEG: it counts frames at 25 fps instead of stamping their
        // arrival (a 30 fps camera would record 20 % slow). Also no look before ffmpeg, which this
        // one-connection camera (ffmpeg ?listen=1) would not survive.
        stream_format: "jpeg_pipe",
      });
      const r = await rec.command("labx", "IPCAM", "IPCAM", { cmd: "start", session: "ip", duration: 5 });
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, "INEXACT_TIMES");
      assert.match(String(r.message), /with jpeg_pipe on a 1\/25 s clock.*--stream-format mjpeg/);
      assertContract(rec.messages, "labx", "IPCAM");
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(rec.jsonOn("labx/IPCAM/batch").length, 0, "no batch announced");
      assert.equal(rec.jsonOn<NodeState>("labx/IPCAM/state").at(-1)!.state, "idle");
      const dir = path.join(run.dataDir, "ip");
      assert.ok(!existsSync(path.join(dir, "manifest.jsonl")), "no manifest");
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
