import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CameraPlan } from "../../node/session/camera-plan.js";
import { retryPlan } from "../../node/session/first-start.js";
import { CameraUnavailableError, InexactTimesError } from "../../node/session/session-types.js";

const plan: CameraPlan = {
  camera: "tcp://10.0.0.2:8554",
  inputFormat: "mjpeg",
  videoSize: "640x480",
  framerate: 30,
  streamFormat: null,
  lateHandover: false,
  probed: true,
};

describe("a first start's one retry (node/session/first-start.ts retryPlan)", () => {
  it("a short probe that failed: once more, probed fully, and the remembered interval forgotten", () => {
    const r = retryPlan(
      { stream_format: "" },
      { ...plan, probeUs: 650_000 },
      new CameraUnavailableError("no frame"),
    );
    assert.equal(r?.plan.probeUs, null);
    assert.equal(r?.forget, true);
  });

  it("ffmpeg's own MJPEG demuxer on a 1/25 s clock: once more as raw MJPEG, nothing forgotten", () => {
    const r = retryPlan({ stream_format: "" }, plan, new InexactTimesError("coarse", "mpjpeg"));
    assert.equal(r?.plan.streamFormat, "mjpeg");
    assert.equal(r?.plan.lateHandover, false);
    assert.equal(r?.forget, false);
  });

  it("no retry where none can help: the user's own --stream-format, raw MJPEG already, another demuxer, a full probe, another error", () => {
    const coarse = new InexactTimesError("coarse", "mpjpeg");
    assert.equal(retryPlan({ stream_format: "mpjpeg" }, plan, coarse), null);
    assert.equal(retryPlan({ stream_format: "" }, { ...plan, streamFormat: "mjpeg" }, coarse), null);
    assert.equal(retryPlan({ stream_format: "" }, plan, new InexactTimesError("coarse", "mpegts")), null);
    assert.equal(retryPlan({ stream_format: "" }, plan, new CameraUnavailableError("no frame")), null);
    assert.equal(retryPlan({ stream_format: "" }, plan, new Error("disk")), null);
  });
});
