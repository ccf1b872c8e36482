import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { startFakeCamera, type FakeCamera } from "../helpers/fake-camera-process.js";
import { epochUs, keyFlags, mjpegBytes } from "../helpers/media.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, type RunningNode } from "../helpers/node.js";
import {
  h264Offset,
  startRtspCamera,
  startUdpCamera,
  type RtspCamera,
  type UdpCamera,
} from "../helpers/stream-cameras.js";

// One synchronized start (`at`) to three nodes recording three kinds of network camera, each against
// its ground truth: HTTP multipart MJPEG (the fake camera's send log, by the number in each JPEG), RTSP
// H.264 (when each frame's first packet passed on the wire) and UDP MPEG-TS H.264 (the camera's send
// log). MJPEG can be cut at any frame: its first frame and every batch start fall in [at + k s,
// at + k s + one frame period). H.264 is copied, so a batch opens at the first keyframe at or after
// at + k s (the cameras send one every 0.5 s).
const PERIOD_US = 1e6 / 30;

interface Recorded {
  batch: number;
  us: number;
  key: boolean;
  number: number | null;
}

function recorded(dataDir: string, batches: BatchReady[], tagged: boolean): Recorded[] {
  const out: Recorded[] = [];
  for (const b of batches) {
    const file = path.join(dataDir, b.file);
    const times = readFileSync(path.join(dataDir, b.frames_file), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((row) => epochUs(row.split(",")[3]!));
    const keys = keyFlags(file);
    const numbers = tagged ? frameNumbers(mjpegBytes(file)) : [];
    assert.equal(keys.length, times.length, `${b.file}: frames in the file and the sidecar`);
    times.forEach((us, i) =>
      out.push({ batch: b.seq, us, key: keys[i]!, number: tagged ? numbers[i]! : null }),
    );
  }
  return out;
}

const nearest = (xs: number[], t: number): number =>
  xs.reduce((a, b) => (Math.abs(b - t) < Math.abs(a - t) ? b : a));

describe("synchronized start with at, network cameras", () => {
  it("HTTP MJPEG, RTSP H.264 and UDP MPEG-TS nodes given one at: batches on the at + k s grid (H.264: its first keyframe on or after), every frame at its true time", async () => {
    let http: FakeCamera | undefined;
    let rtsp: RtspCamera | undefined;
    let udp: UdpCamera | undefined;
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    const nodes: RunningNode[] = [];
    try {
      http = await startFakeCamera(30, undefined, "http");
      rtsp = await startRtspCamera("h264");
      udp = await startUdpCamera(900);
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      const cameras = { AT_HTTP: http.url, AT_RTSP: rtsp.url, AT_UDP: udp.url };
      for (const [id, camera] of Object.entries(cameras))
        nodes.push(await startNode({ broker_url: broker.url, sbc_id: id, camera, disable_sync: true }));
      const atMs = Math.ceil(Date.now() / 1000) * 1000 + 3000;
      const atUs = atMs * 1000;
      const at = new Date(atMs).toISOString();
      await mq.publish(
        "labx/all/cmd",
        JSON.stringify({ cmd: "start", id: "at1", session: "sync", at, batch_duration: 1, duration: 3 }),
      );
      for (const id of Object.keys(cameras)) {
        const reply = await mq.waitFor(
          () => mq.jsonOn(`labx/${id}/reply`).find((r) => r.id === "at1"),
          10_000,
          `${id} reply`,
        );
        assert.equal((reply.state as NodeState).state, "scheduled", `${id}: ${JSON.stringify(reply)}`);
      }
      for (const id of Object.keys(cameras))
        await mq.waitFor(
          () => mq.jsonOn(`labx/${id}/event`).find((e) => e.type === "session_ended"),
          30_000,
          `${id} end`,
        );
      const runs = new Map(Object.keys(cameras).map((id, i) => [id, nodes[i]!]));
      for (const id of Object.keys(cameras)) {
        const batches = mq.jsonOn<BatchReady>(`labx/${id}/batch`);
        assert.ok(batches.length >= 2, `${id}: ${batches.length} batches`);
        for (let k = 1; k < batches.length; k++) assert.equal(batches[k]!.start, batches[k - 1]!.end, id);
        assert.equal(batches.at(-1)!.last, true, id);
        assert.equal(
          mq.jsonOn(`labx/${id}/event`).filter((e) => ["gap", "recorder_restarted"].includes(String(e.type)))
            .length,
          0,
          id,
        );
        const frames = recorded(runs.get(id)!.dataDir, batches, id === "AT_HTTP");
        const opening = batches.map((b) => frames.find((f) => f.batch === b.seq)!);
        if (id === "AT_HTTP") {
          const sent = http.sent();
          for (const f of frames) {
            const error = f.us - sent.get(f.number!)!;
            assert.ok(
              Math.abs(error) < PERIOD_US / 2,
              `${id}: frame ${f.number} recorded ${error} µs from its sending`,
            );
          }
          opening.forEach((f, k) => {
            const off = f.us - (atUs + k * 1e6);
            assert.ok(off >= 0 && off < PERIOD_US, `${id}: batch ${k} opens ${off} µs after at + ${k} s`);
          });
          continue;
        }
        const wire = rtsp.wire();
        const sent = udp.sent();
        for (const f of frames) {
          // RTSP H.264: from the nearest frame's span on the wire, its first packet to its first picture packet.
          const error =
            id === "AT_RTSP"
              ? wire.map((w) => h264Offset(f.us, w)).reduce((a, b) => (Math.abs(b) < Math.abs(a) ? b : a))
              : f.us - nearest(sent, f.us);
          assert.ok(Math.abs(error) < PERIOD_US / 2, `${id}: a frame recorded ${error} µs from its sending`);
        }
        opening.forEach((f, k) => {
          assert.ok(f.key, `${id}: batch ${k} opens with a keyframe`);
          if (k === 0) {
            // UDP MPEG-TS frames are handed over when the next begins: ffmpeg picks the first frame by
            // that later stamp, so it may have begun arriving up to a period before at (docs/time.md).
            const earliest = atUs - (id === "AT_UDP" ? PERIOD_US : 0);
            assert.ok(
              f.us >= earliest && f.us < atUs + 0.5e6 + PERIOD_US,
              `${id}: first frame ${f.us - atUs} µs after at`,
            );
            return;
          }
          const due = frames.find((g) => g.key && g.us >= atUs + k * 1e6)!;
          assert.equal(f.us, due.us, `${id}: batch ${k} opens at the first keyframe at or after at + ${k} s`);
        });
        console.log(
          `${id}: ${frames.length} frames; batches open ${opening.map((f) => ((f.us - atUs) / 1000).toFixed(1)).join(", ")} ms after at`,
        );
      }
    } finally {
      for (const n of nodes) await n.stop();
      http?.stop();
      rtsp?.stop();
      udp?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
