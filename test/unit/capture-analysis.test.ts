import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyseCapture } from "../../node/doctor/capture-analysis.js";

describe("a test capture's figures (pure)", () => {
  it("rate, interval and jitter of an even 30 fps capture; nothing dropped", () => {
    const t0 = 1_795_570_800_000_000;
    const times = Array.from({ length: 31 }, (_, i) => t0 + Math.round((i * 1e6) / 30));
    const a = analyseCapture(times, 31 * 20_000, t0 - 150_000)!;
    assert.equal(a.frames, 31);
    assert.equal(a.fps, 30);
    assert.equal(a.intervalMs, 33.333);
    assert.ok(a.jitterMs < 0.001);
    assert.equal(a.dropped, 0);
    assert.equal(a.monotonic, true);
    assert.equal(a.firstFrameAfterStartMs, 150);
  });

  it("counts the frames a gap lost, and times that go backwards", () => {
    const times = [0, 33_333, 66_667, 166_667, 200_000, 199_000];
    const a = analyseCapture(times, 0, 0)!;
    assert.equal(a.dropped, 1, "the 100 ms interval");
    assert.equal(a.monotonic, false);
    assert.equal(analyseCapture([5], 0, 0), null, "one frame says nothing");
  });
});
