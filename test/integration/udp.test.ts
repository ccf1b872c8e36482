import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady, CameraMemory, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { createValidators } from "../../contract/schemas.js";
import { CAMERA_MEMORY_FILE, cameraKey, probeFor } from "../../node/camera/camera-memory.js";
import { processesIn } from "../helpers/processes.js";
import { startAedes } from "../helpers/aedes.js";
import { assertContract } from "../helpers/contract.js";
import { countFrames, epochUs, opensWithKeyframe } from "../helpers/media.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { startUdpCamera, type UdpCamera } from "../helpers/stream-cameras.js";

// A UDP camera: MPEG-TS (H.264, 30 fps, a keyframe every 15 frames) sent frame by frame at the camera's
// pace by test/helpers/udp-camera.ts, which logs each frame's send time: the ground truth.
const PERIOD_US = 1e6 / 30;

// Two kinds of MPEG-TS: video PES packets without a length (ffmpeg's and GStreamer's default), which
// ffmpeg hands over only when the next frame begins to arrive, and with one (-omit_video_pes_length 0),
// handed over as soon as complete. The node tells them apart from the camera's first datagrams.
const CASES = [
  { name: "unbounded video PES", muxerArgs: [] as string[] },
  { name: "video PES with a length", muxerArgs: ["-omit_video_pes_length", "0"] },
];

/**
 * Every recorded frame against the camera's send log: batches contiguous, opening on keyframes, every
 * frame the camera's next one, each stamped when it began to arrive.
 */
function checkAgainstTruth(run: RunningNode, batches: BatchReady[], camera: UdpCamera, name: string): void {
  assert.ok(batches.length >= 3, `${batches.length} batches`);
  for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
  const recorded: number[] = [];
  for (const b of batches) {
    assert.deepEqual([b.time_source, b.time_resolution_us], ["arrival", 11.111]);
    const file = path.join(run.dataDir, b.file);
    assert.equal(countFrames(file), b.frames);
    assert.ok(opensWithKeyframe(file), `${b.file} opens with a keyframe`);
    const rows = readFileSync(path.join(run.dataDir, b.frames_file), "utf8").trim().split("\n").slice(1);
    recorded.push(...rows.map((row) => epochUs(row.split(",")[3]!)));
  }
  // Ground truth. ffmpeg joins the stream at a keyframe (frame k0, a multiple of 15). From the first
  // frame on, every recorded frame is the camera's next: a lost or extra frame would step the
  // offsets below by a period, and a frame stamped when the next began to arrive (ffmpeg's own
  // stamp for unbounded PES, docs/time.md) would be a period late.
  const sent = camera.sent();
  const k0 = Math.floor(sent.findLastIndex((t) => t <= recorded[0]!) / 15) * 15;
  const offsets = recorded.map((t, i) => t - sent[k0 + i]!);
  const spread = Math.max(...offsets) - Math.min(...offsets);
  const medianOf = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const median = medianOf(offsets);
  assert.ok(median >= 0 && median < PERIOD_US / 4, `recorded ${median} µs after sending`);
  // A lost or extra frame moves every later offset by a period; a frame the loaded machine stamped
  // late moves only its own. So every run of 15 frames (half a second) must keep its median within
  // a quarter period of the sending: a step anywhere shows, a late stamp does not.
  for (let i = 0; i + 15 <= offsets.length; i++) {
    const m = medianOf(offsets.slice(i, i + 15));
    assert.ok(Math.abs(m) < PERIOD_US / 4, `frames ${i}–${i + 14}: median ${m} µs from their sending`);
  }
  console.log(
    `udp (${name}): ${recorded.length} frames from the camera's frame ${k0}; recorded p50 ${median} µs after sending, spread ${spread} µs`,
  );
}

describe("a UDP MPEG-TS camera", () => {
  for (const { name, muxerArgs } of CASES)
    it(`${name}: copied into contiguous batches opening on keyframes; every frame received kept, in order, at the time it began to arrive`, async () => {
      const camera = await startUdpCamera(600, muxerArgs);
      let broker: Broker | undefined;
      let rec: MqttRecorder | undefined;
      let run: RunningNode | undefined;
      try {
        broker = await startAedes();
        rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
        run = await startNode({
          broker_url: broker.url,
          sbc_id: "UDP",
          camera: camera.url,
          batch_duration: 1,
          disable_sync: true,
        });
        const r = await rec.command("labx", "UDP", "UDP", { cmd: "start", session: "udp", duration: 4 });
        assert.equal(r.ok, true, JSON.stringify(r));
        const ended = await rec.waitFor(
          () => rec!.jsonOn<NodeEvent>("labx/UDP/event").find((e) => e.type === "session_ended"),
          30_000,
          "end",
        );
        assert.equal(ended.reason, "completed", JSON.stringify(rec.jsonOn<NodeEvent>("labx/UDP/event")));
        checkAgainstTruth(run, rec.jsonOn<BatchReady>("labx/UDP/batch"), camera, name);
        assert.ok(assertContract(rec.messages, "labx", "UDP") > 3);
      } finally {
        camera.stop();
        await run?.stop();
        await rec?.close();
        await broker?.stop();
      }
    });

  it("keyframes 3 s apart: ffmpeg joins mid-GOP and records from the first keyframe; the session still runs its course, with no restart", async () => {
    // ffmpeg's timeline (and -t) starts at the first frame it reads, up to a GOP before the first
    // keyframe it can record from: a session measured from its first recorded frame looked short, and
    // was taken for ffmpeg dying.
    const camera = await startUdpCamera(900, [], 90);
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "GOP",
        camera: camera.url,
        batch_duration: 1,
        disable_sync: true,
      });
      // Join the camera mid-GOP, well after its first keyframe.
      await new Promise((r) => setTimeout(r, 1500));
      const r = await rec.command("labx", "GOP", "GOP", { cmd: "start", session: "gop", duration: 4 });
      assert.equal(r.ok, true, JSON.stringify(r));
      const ended = await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/GOP/event").find((e) => e.type === "session_ended"),
        30_000,
        "end",
      );
      const events = rec.jsonOn<NodeEvent>("labx/GOP/event");
      assert.equal(ended.reason, "completed", JSON.stringify(events));
      assert.deepEqual(
        events.filter((e) => ["recorder_restarted", "gap"].includes(e.type)),
        [],
      );
      const batches = rec.jsonOn<BatchReady>("labx/GOP/batch");
      assert.ok(batches.length >= 1);
      assert.equal(batches.at(-1)!.last, true);
      for (const b of batches) assert.ok(opensWithKeyframe(path.join(run.dataDir, b.file)), b.file);
    } finally {
      camera.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });

  it("a second session probes the camera for the keyframe interval its first one measured (remembered on disk), as exact", async (t) => {
    const camera = await startUdpCamera(1200);
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "MEM",
        camera: camera.url,
        batch_duration: 1,
        disable_sync: true,
      });
      const session = async (
        name: string,
        duration: number,
      ): Promise<{ replyMs: number; analyze: string | null }> => {
        const t0 = Date.now();
        const r = await rec!.command("labx", "MEM", "MEM", { cmd: "start", session: name, duration });
        const replyMs = Date.now() - t0;
        assert.equal(r.ok, true, JSON.stringify(r));
        // The probe ffmpeg was given, from its own command line.
        const [pid] = processesIn(path.join(run!.dataDir, name), "ffmpeg");
        const argv = pid ? readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0") : [];
        const i = argv.indexOf("-analyzeduration");
        await rec!.waitFor(
          () =>
            rec!
              .jsonOn<NodeEvent>("labx/MEM/event")
              .find((e) => e.type === "session_ended" && e.session === name),
          30_000,
          `${name} ended`,
        );
        return { replyMs, analyze: i < 0 ? null : argv[i + 1]! };
      };
      const first = await session("m1", 2);
      assert.equal(first.analyze, null, "the first session: ffmpeg's full probe");
      const memory = JSON.parse(
        readFileSync(path.join(run.dataDir, CAMERA_MEMORY_FILE), "utf8"),
      ) as CameraMemory;
      assert.ok(createValidators().cameraMemory(memory), "the memory matches its schema");
      const kept = memory.cameras[cameraKey(camera.url)]!.keyframe_interval_us;
      assert.ok(
        kept >= 450_000 && kept <= 600_000,
        `remembered a keyframe interval of ${kept} µs (the camera's: 0.5 s)`,
      );
      const batchesBefore = rec.jsonOn<BatchReady>("labx/MEM/batch").length;
      const second = await session("m2", 4);
      assert.equal(Number(second.analyze), probeFor(kept), "the second: as short as that interval allows");
      checkAgainstTruth(
        run,
        rec.jsonOn<BatchReady>("labx/MEM/batch").slice(batchesBefore),
        camera,
        "second session",
      );
      t.diagnostic(
        `start reply: ${first.replyMs} ms with the full probe, ${second.replyMs} ms with the remembered one`,
      );
    } finally {
      camera.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });

  it("a remembered interval the camera no longer keeps (keyframes now 3 s apart): the short probe fails, the node forgets it, probes fully and records; the memory is corrected", async () => {
    const camera = await startUdpCamera(900, [], 90);
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    const dataDir = tempDir();
    try {
      const file = path.join(dataDir, CAMERA_MEMORY_FILE);
      mkdirSync(path.dirname(file), { recursive: true });
      const stale: CameraMemory = {
        version: 1,
        cameras: {
          [cameraKey(camera.url)]: { keyframe_interval_us: 100_000, updated_at: new Date().toISOString() },
        },
      };
      writeFileSync(file, JSON.stringify(stale));
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "STALE",
        camera: camera.url,
        batch_duration: 1,
        disable_sync: true,
        data_dir: dataDir,
      });
      // Started just after a keyframe went out: the next is 2.5 s away, past any short probe.
      await rec.waitFor(
        () => (camera.sent().length % 90 >= 5 && camera.sent().length % 90 <= 15 ? true : undefined),
        10_000,
        "a keyframe just sent",
      );
      // 7 s from the first keyframe ffmpeg copies: the session sees the next one, 3 s later.
      const r = await rec.command("labx", "STALE", "STALE", { cmd: "start", session: "s", duration: 7 });
      assert.equal(r.ok, true, JSON.stringify(r));
      const during = JSON.parse(readFileSync(file, "utf8")) as CameraMemory;
      assert.equal(
        during.cameras[cameraKey(camera.url)],
        undefined,
        "the wrong interval is forgotten at once",
      );
      const ended = await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/STALE/event").find((e) => e.type === "session_ended"),
        40_000,
        "end",
      );
      assert.equal(ended.reason, "completed");
      const batches = rec.jsonOn<BatchReady>("labx/STALE/batch");
      assert.ok(batches.length >= 1);
      for (const b of batches) assert.ok(opensWithKeyframe(path.join(dataDir, b.file)), b.file);
      const memory = JSON.parse(readFileSync(file, "utf8")) as CameraMemory;
      const kept = memory.cameras[cameraKey(camera.url)]!.keyframe_interval_us;
      assert.ok(kept >= 2_900_000 && kept <= 3_200_000, `corrected to ${kept} µs`);
    } finally {
      camera.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a camera silent for 3 s when the start comes (slow to start): waited for, the wait in the state, recorded exactly", async () => {
    const camera = await startUdpCamera(900, [], 15, 3000);
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "LATE",
        camera: camera.url,
        batch_duration: 1,
        disable_sync: true,
      });
      const r = await rec.command("labx", "LATE", "LATE", { cmd: "start", session: "late", duration: 4 });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(
        rec.jsonOn<NodeState>("labx/LATE/state").some((s) => s.camera_wait_until),
        "the wait for the silent camera is in the state",
      );
      const ended = await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/LATE/event").find((e) => e.type === "session_ended"),
        40_000,
        "end",
      );
      assert.equal(ended.reason, "completed");
      checkAgainstTruth(run, rec.jsonOn<BatchReady>("labx/LATE/batch"), camera, "silent for 3 s");
    } finally {
      camera.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });

  it("a camera silent for all of --camera-wait: refused with INEXACT_TIMES, nothing recorded", async () => {
    const camera = await startUdpCamera(300, [], 15, 60_000);
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    let run: RunningNode | undefined;
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      run = await startNode({
        broker_url: broker.url,
        sbc_id: "MUTE",
        camera: camera.url,
        camera_wait: 2,
        disable_sync: true,
      });
      const r = await rec.command("labx", "MUTE", "MUTE", { cmd: "start", session: "mute" });
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, "INEXACT_TIMES");
      assert.match(String(r.message), /sent nothing within 2 s of labx connecting \(--camera-wait\)/);
      assert.equal(rec.jsonOn("labx/MUTE/batch").length, 0);
      assert.equal(rec.jsonOn<NodeState>("labx/MUTE/state").at(-1)!.state, "idle");
      assert.equal(
        rec.jsonOn<NodeState>("labx/MUTE/state").at(-1)!.camera_wait_until,
        undefined,
        "the wait is over",
      );
    } finally {
      camera.stop();
      await run?.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
