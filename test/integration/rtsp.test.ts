import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { assertPlayable, countFrames, epochUs, opensWithKeyframe } from "../helpers/media.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";
import { h264Offset, startRtspCamera, type RtspCamera, type WireFrame } from "../helpers/stream-cameras.js";

// A real RTSP camera: GStreamer's RTSP server with a live 30 fps pattern, H.264 or MJPEG over RTP
// (interleaved in the RTSP TCP connection), its ground truth taken on the wire (stream-cameras.ts).
const PERIOD_US = 1e6 / 30;

describe("an RTSP camera (GStreamer's RTSP server)", () => {
  for (const [codec, credentials, silentMs] of [
    ["h264", undefined, 0],
    ["mjpeg", "lab:s3cret", 0],
    // Slow to start: nothing for 3 s after PLAY.
    ["mjpeg", undefined, 3000],
    ["h264", undefined, 3000],
  ] as const)
    it(`${codec}${credentials ? ", with credentials" : ""}${silentMs ? ", silent for 3 s after it starts streaming" : ""}: every frame kept, stamped within a frame period of its sending, batches contiguous`, async () => {
      let camera: RtspCamera | undefined;
      let broker: Broker | undefined;
      let rec: MqttRecorder | undefined;
      let run: RunningNode | undefined;
      const node = `RTSP_${codec.toUpperCase()}${silentMs ? "_SLOW" : ""}`;
      try {
        camera = await startRtspCamera(codec, credentials, silentMs);
        broker = await startAedes();
        rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
        run = await startNode({
          broker_url: broker.url,
          sbc_id: node,
          camera: camera.url,
          batch_duration: 1,
          disable_sync: true,
        });
        const asked = Date.now();
        const r = await rec.command("labx", node, node, { cmd: "start", session: "rtsp", duration: 4 });
        assert.equal(r.ok, true, JSON.stringify(r));
        // The start is answered at the first frame: after the camera's silence.
        if (silentMs) assert.ok(Date.now() - asked >= silentMs, `answered after ${Date.now() - asked} ms`);
        const ended = await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>(`labx/${node}/event`).find((e) => e.type === "session_ended"),
          30_000,
          "end",
        );
        const events = rec.jsonOn<NodeEvent>(`labx/${node}/event`);
        assert.equal(ended.reason, "completed", JSON.stringify(events));
        assert.deepEqual(
          events.filter((e) => ["recorder_restarted", "gap", "coarse_timestamps"].includes(e.type)),
          [],
        );
        const batches = rec.jsonOn<BatchReady>(`labx/${node}/batch`);
        assert.ok(batches.length >= 3, `${batches.length} batches`);
        assert.deepEqual(
          batches.map((b) => b.seq),
          batches.map((_, i) => i),
        );
        for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
        assert.equal(batches.at(-1)!.last, true);
        const recorded: number[] = [];
        for (const b of batches) {
          assert.equal(b.time_source, "arrival");
          assert.equal(b.time_resolution_us, 11.111, "RTP's 1/90000 s");
          const file = path.join(run.dataDir, b.file);
          assert.equal(countFrames(file), b.frames);
          assertPlayable(file);
          if (codec === "h264") {
            // Stream copy: a batch can only begin at one of the camera's keyframes.
            assert.ok(opensWithKeyframe(file), `${b.file} opens with a keyframe`);
          }
          const rows = readFileSync(path.join(run.dataDir, b.frames_file), "utf8")
            .trim()
            .split("\n")
            .slice(1);
          recorded.push(...rows.map((row) => epochUs(row.split(",")[3]!)));
        }
        // Ground truth on the wire. ffmpeg stamps an H.264 frame when its first packet arrives (the
        // depacketizer hands over each NAL unit): its delimiter, or its first slice where the delimiter
        // came long before (GStreamer 1.26 sends frame 0's at PLAY, 50 ms early); an MJPEG frame when its
        // last packet does (it hands over whole frames). An H.264 stamp is measured from the span between
        // the frame's first packet and its first picture packet (~0.2 ms, more when the server is busy:
        // 24 ms seen on a loaded machine), an MJPEG stamp from its last packet. Align on the frame on the
        // wire nearest the first recorded time; from there every recorded frame is the next one on the
        // wire: a lost frame, or a frame stamped late, would step the offsets below by a frame period.
        const frames = camera.wire();
        const wire = frames.map((f) => (codec === "h264" ? f.first : f.last));
        const offsetFrom = (t: number, f: WireFrame): number =>
          codec === "h264" ? h264Offset(t, f) : t - f.last;
        const k = wire.findLastIndex((t) => t <= recorded[0]! + PERIOD_US / 2);
        // The silent H.264 camera's stream resumes mid-GOP (the tap cuts it): ffmpeg records from the
        // next keyframe, at most a GOP (15 frames) in.
        const firstFrameAtMost = silentMs && codec === "h264" ? 15 : 5;
        assert.ok(k >= 0 && k <= firstFrameAtMost, `the stream began at the camera's frame ${k}`);
        assert.ok(
          wire.length >= k + recorded.length,
          `${wire.length} on the wire, ${recorded.length} recorded`,
        );
        const offsets = recorded.map((t, i) => offsetFrom(t, frames[k + i]!));
        for (const [i, o] of offsets.entries())
          assert.ok(Math.abs(o) < PERIOD_US / 2, `frame ${i} recorded ${o} µs from its packet on the wire`);
        const spread = Math.max(...offsets) - Math.min(...offsets);
        const sorted = [...offsets].sort((x, y) => x - y);
        const span = recorded.at(-1)! - recorded[0]! + PERIOD_US;
        assert.ok(span >= 3.5e6, `the frames span ${span} µs of a 4 s session`);
        console.log(
          `rtsp ${codec}: ${recorded.length} frames from the camera's frame ${k}; offset from the wire p50 ${sorted[Math.floor(sorted.length / 2)]} µs, spread ${spread} µs`,
        );
        assert.ok(assertContract(rec.messages, "labx", node) > 5);
      } finally {
        camera?.stop();
        await run?.stop();
        await rec?.close();
        await broker?.stop();
      }
    });

  it("H.264 copied from a camera whose keyframes are 3 s apart: batches last as long, and a keyframe_interval warning says why and what helps", async () => {
    let camera: RtspCamera | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      camera = await startRtspCamera("h264-gop3s");
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "GOP",
        camera: camera.url,
        batch_duration: 1,
        disable_sync: true,
      });
      const r = await rec.command("labx", "GOP", "GOP", { cmd: "start", session: "gop", duration: 7 });
      assert.equal(r.ok, true, JSON.stringify(r));
      await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/GOP/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const warnings = rec.jsonOn<NodeEvent>("labx/GOP/event").filter((e) => e.type === "keyframe_interval");
      assert.equal(warnings.length, 1, "said once");
      assert.equal(warnings[0]!.level, "warning");
      // x264's key-int-max=90 at 30 fps: keyframes 3 s apart by the frames' own arrival times.
      assert.ok(
        Math.abs(warnings[0]!.keyframe_interval_s! - 3) < 0.1,
        String(warnings[0]!.keyframe_interval_s),
      );
      assert.match(warnings[0]!.message, /--codec h264/);
      const batches = rec.jsonOn<BatchReady>("labx/GOP/batch");
      for (const b of batches.slice(0, -1))
        assert.ok(b.duration_s > 2.5, `${b.file}: ${b.duration_s} s, from one keyframe to the next`);
      for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
      assert.ok(assertContract(rec.messages, "labx", "GOP") > 3);
    } finally {
      camera?.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
