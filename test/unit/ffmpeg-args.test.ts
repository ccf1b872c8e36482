import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildFfmpegArgs,
  cameraKind,
  displayArgs,
  resolveCodec,
  type CameraArgs,
} from "../../node/ffmpeg/ffmpeg-args.js";
import { MUX_SHIFT_EXPR, muxShiftTicks } from "../../node/ffmpeg/stream-timestamps.js";

const base: CameraArgs = {
  camera: "synthetic",
  videoSize: "640x480",
  framerate: 30,
  inputFormat: "mjpeg",
  codec: "auto",
  batchDuration: 10,
  duration: null,
  filePattern: "SBC001_exp01_%05d.mkv",
};
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildFfmpegArgs", () => {
  it("synthetic: a real-time lavfi pattern on an exact wall-clock µs grid, encoded to MJPEG", () => {
    const a = buildFfmpegArgs(base);
    assert.equal(after(a, "-f"), "lavfi");
    assert.equal(
      after(a, "-i"),
      "testsrc2=size=640x480:rate=30,settb=1/1000000,setpts=RTCSTART+N/(FRAME_RATE*TB),realtime",
    );
    assert.ok(!a.includes("-use_wallclock_as_timestamps"), "arrival stamps collide under load");
    assert.equal(after(a, "-c:v"), "mjpeg");
    assert.equal(after(a, "-fps_mode"), "passthrough");
    assert.ok(!a.includes("-t"));
    assert.ok(a.includes("-nostats"), "no progress lines to wake the node");
  });
  it("the encoder keeps the input's µs time base, named as the ffmpeg in use names it", () => {
    for (const codec of ["mjpeg", "h264"] as const) {
      assert.equal(after(buildFfmpegArgs({ ...base, codec }), "-enc_time_base"), "-1", "ffmpeg 5.1's way");
      assert.equal(
        after(buildFfmpegArgs({ ...base, codec, encTimeBase: "demux" }), "-enc_time_base"),
        "demux",
        "6.1 and later",
      );
    }
    const copied = buildFfmpegArgs({ ...base, camera: "/dev/video0", codec: "copy", encTimeBase: "demux" });
    assert.ok(!copied.includes("-enc_time_base"), "a copied stream has no encoder");
  });

  it("V4L2 with MJPEG: stream copy, kernel timestamps mapped to wall-clock (no device needed to build args)", () => {
    const a = buildFfmpegArgs({ ...base, camera: "/dev/video0", videoSize: "1280x720", framerate: 25 });
    assert.deepEqual(a.slice(a.indexOf("-f"), a.indexOf("-i") + 2), [
      "-f",
      "v4l2",
      "-input_format",
      "mjpeg",
      "-video_size",
      "1280x720",
      "-framerate",
      "25",
      "-ts",
      "mono2abs",
      "-i",
      "/dev/video0",
    ]);
    assert.equal(after(a, "-c:v"), "copy");
    assert.equal(after(a, "-copytb"), "1");
  });

  it("streams are copied with arrival-time stamps; rtsp over TCP", () => {
    const a = buildFfmpegArgs({ ...base, camera: "rtsp://cam/stream" });
    assert.equal(after(a, "-rtsp_transport"), "tcp");
    // Probing stops once the codec is known, except for MPEG-TS, which ffmpeg probes for as long as
    // allowed: a camera joined between keyframes needs that long to show its SPS.
    assert.equal(after(a, "-analyzeduration"), "1");
    assert.equal(after(a, "-fpsprobesize"), "0");
    for (const ts of [{ camera: "udp://0.0.0.0:5000" }, { camera: "tcp://cam:5000", streamFormat: "mpegts" }])
      assert.ok(!buildFfmpegArgs({ ...base, ...ts }).includes("-analyzeduration"), ts.camera);
    assert.equal(after(a, "-c:v"), "copy");
    assert.equal(after(a, "-i"), "rtsp://cam/stream");
    // Burst frames are spaced ≥ 1 ms (Matroska's resolution) after the shift back (see below); the comma
    // is escaped from -bsf's list syntax.
    assert.equal(
      after(a, "-bsf:v"),
      "setts=pts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,PTS):dts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,DTS)," +
        "setts=ts=if(N\\,max(TS-floor(0.0005/TB+1e-9)\\,PREV_OUTPTS+ceil(0.001/TB))\\,if(gte(TS\\,0)\\,0\\,TS)):duration=if(N\\,DURATION\\,if(gte(TS\\,0)\\,TS+1\\,DURATION))",
    );
  });

  it("a stream handed over late (unbounded MPEG-TS) takes the previous frame's stamp, copied or re-encoded", () => {
    const copy = buildFfmpegArgs({
      ...base,
      camera: "udp://0.0.0.0:5000",
      streamFormat: "mpegts",
      lateHandover: true,
    });
    assert.equal(after(copy, "-f"), "mpegts");
    assert.equal(
      after(copy, "-bsf:v"),
      "setts=pts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,PTS):dts=if(eq(PTS\\,NOPTS)\\,DTS-DURATION\\,DTS)," +
        "setts=ts=if(eq(PREV_INPTS\\,NOPTS)\\,TS-DURATION\\,PREV_INPTS)," +
        "setts=ts=if(N\\,max(TS-floor(0.0005/TB+1e-9)\\,PREV_OUTPTS+ceil(0.001/TB))\\,if(gte(TS\\,0)\\,0\\,TS)):duration=if(N\\,DURATION\\,if(gte(TS\\,0)\\,TS+1\\,DURATION))",
    );
    assert.ok(!copy.includes("-vf"));
    const encoded = buildFfmpegArgs({
      ...base,
      camera: "udp://0.0.0.0:5000",
      codec: "h264",
      lateHandover: true,
    });
    assert.equal(after(encoded, "-vf"), "setpts=if(isnan(PREV_INPTS)\\,PTS\\,PREV_INPTS),select=gte(n\\,1)");
    assert.ok(encoded.indexOf("-vf") < encoded.indexOf("-c:v"));
    const bounded = buildFfmpegArgs({ ...base, camera: "udp://0.0.0.0:5000", streamFormat: "mpegts" });
    assert.ok(!after(bounded, "-bsf:v")!.includes("PREV_INPTS"));
  });

  it("an HTTP multipart MJPEG camera's JPEGs are re-assembled from their segments, leaving the part headers out", () => {
    const http = buildFfmpegArgs({ ...base, camera: "http://cam/video", streamFormat: "mjpeg" });
    assert.ok(after(http, "-bsf:v")!.startsWith("filter_units=pass_types=0-255,"));
    for (const other of [
      { camera: "tcp://cam:5000", streamFormat: "mjpeg" },
      { camera: "http://cam/ts", streamFormat: "mpegts" },
    ])
      assert.ok(
        !after(buildFfmpegArgs({ ...base, ...other }), "-bsf:v")!.includes("filter_units"),
        other.camera,
      );
  });

  it("H.264 forces a keyframe at every batch boundary", () => {
    const a = buildFfmpegArgs({ ...base, codec: "h264", batchDuration: 4 });
    assert.equal(after(a, "-c:v"), "libx264");
    assert.equal(after(a, "-force_key_frames"), "expr:gte(t,n_forced*4)");
    assert.equal(after(a, "-flags"), "+global_header");
  });

  it("duration ends the output on time; batches via tee → segment + framecrc on one pipe", () => {
    const a = buildFfmpegArgs({ ...base, duration: 300, batchDuration: 2.5 });
    assert.equal(after(a, "-t"), "300");
    const tee = a.at(-1)!;
    assert.equal(after(a, "-f") === "lavfi" ? a[a.lastIndexOf("-f") + 1] : "", "tee");
    assert.match(
      tee,
      /^\[f=segment:onfail=abort:avoid_negative_ts=disabled:segment_time=2\.5:reset_timestamps=1:.*segment_list=pipe\\\\:1\]SBC001_exp01_%05d\.mkv\|\[f=framecrc:flush_packets=1\]pipe\\:1$/,
    );
  });

  it("a synchronized start shifts the timeline so its zero is `at`, keeps it, and drops earlier frames", () => {
    const a = buildFfmpegArgs({ ...base, alignToUs: 1795570800_250000 });
    // Zero 1 µs before at, then -ss 1 µs: frames before at, and one without a timestamp, are dropped.
    assert.equal(after(a, "-itsoffset"), "-1795570800.249999");
    assert.ok(a.indexOf("-itsoffset") < a.indexOf("-i"), "an input option");
    assert.ok(a.includes("-copyts"));
    assert.equal(after(a, "-ss"), "0.000001");
    assert.ok(!buildFfmpegArgs(base).includes("-copyts"));
  });

  it("every codec moves timestamps back half a millisecond before muxing, as many ticks as ffmpeg does, the first frame muxed at zero", () => {
    for (const codec of ["mjpeg", "h264"] as const)
      assert.equal(
        after(buildFfmpegArgs({ ...base, codec }), "-bsf:v"),
        `setts=ts=if(N\\,TS-${MUX_SHIFT_EXPR}\\,if(gte(TS\\,0)\\,0\\,TS)):duration=if(N\\,DURATION\\,if(gte(TS\\,0)\\,TS+1\\,DURATION))`,
      );
    assert.equal(muxShiftTicks(1, 1_000_000), 500);
    assert.equal(muxShiftTicks(1, 90_000), 45);
    assert.equal(muxShiftTicks(1, 1_200_000), 600);
    assert.equal(muxShiftTicks(1, 1000), 0);
    assert.equal(muxShiftTicks(1, 3000), 1);
  });

  it("refuses a file pattern that could escape or inject into the tee spec", () => {
    for (const p of ["../x_%05d.mkv", "a|b.mkv", "a:b.mkv", "a[b].mkv", "/abs.mkv"])
      assert.throws(() => buildFfmpegArgs({ ...base, filePattern: p }), /unsafe/);
  });

  it("resolves codecs and camera kinds", () => {
    assert.equal(cameraKind("/dev/video2"), "v4l2");
    assert.equal(cameraKind("http://x/mjpg"), "stream");
    assert.equal(resolveCodec("v4l2", "yuyv422", "auto"), "mjpeg");
    assert.equal(resolveCodec("v4l2", "h264", "auto"), "copy");
    assert.equal(resolveCodec("synthetic", "mjpeg", "h264"), "h264");
  });

  it("hides credentials when displayed", () => {
    const shown = displayArgs(["ffmpeg", "-i", "rtsp://user:secret@cam/s", "a b"]);
    assert.ok(!shown.includes("secret"));
    assert.equal(shown, "ffmpeg -i 'rtsp://***@cam/s' 'a b'");
  });
});
