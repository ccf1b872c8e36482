import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countFrames, repairArgs } from "../../node/store/repair.js";
import { DEFAULT_RESTART_POLICY, ranItsCourse, restartDelay } from "../../node/session/restart-policy.js";

describe("restart policy", () => {
  it("backs off 0.5, 1, 2, 4, 8 s and gives up after more than maxFailures within the window", () => {
    const t = 1_000_000;
    const failures: number[] = [];
    const delays: (number | null)[] = [];
    for (let i = 0; i < 6; i++) {
      failures.push(t + i * 1000);
      delays.push(restartDelay(failures, t + i * 1000));
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, null]);
  });

  it("forgets failures older than the window: a camera that hiccups once an hour is restarted every time", () => {
    const hourly = Array.from({ length: 20 }, (_, i) => i * 3_600_000);
    assert.equal(restartDelay(hourly, hourly.at(-1)!), DEFAULT_RESTART_POLICY.baseDelayMs);
  });
});

describe("an ffmpeg exit that ends the session as planned", () => {
  it("only a clean exit after the whole duration: not an early EOF, not a session without duration", () => {
    assert.equal(ranItsCourse(10, 0, 9_980_000), true);
    assert.equal(ranItsCourse(10, 0, 6_000_000), false, "the stream ended early");
    assert.equal(ranItsCourse(10, 1, 10_000_000), false, "an error exit");
    assert.equal(ranItsCourse(null, 0, 60_000_000), false, "no duration: any exit is unexpected");
  });
});

describe("partial batch repair", () => {
  it("stream-copies the first video stream to a new Matroska file and prints framecrc", () => {
    const a = repairArgs("in.mkv", ".in.mkv.repair.mkv");
    assert.deepEqual(a.slice(a.indexOf("-i"), a.indexOf("-i") + 2), ["-i", "in.mkv"]);
    assert.ok(a.includes(".in.mkv.repair.mkv"));
    assert.equal(a.at(-1), "-");
    assert.ok(!a.some((x) => x.includes("libx264") || x === "-vf"), "never re-encodes");
  });

  it("counts frame lines, not headers", () => {
    assert.equal(
      countFrames("#tb 0: 1/1000\n#software: x\n0,  0,  0,  33, 1234, 0xabc\n0, 33, 33, 33, 1200, 0xdef\n"),
      2,
    );
  });
});
