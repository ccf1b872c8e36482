import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countFrames, repairArgs } from "../../node/data/repair.js";
import {
  DEFAULT_RESTART_POLICY,
  isCrash,
  ranItsCourse,
  restartDelay,
} from "../../node/session/restart-policy.js";

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

  it("a crash is any other exit, unless a stop was asked for or the session's time is up and ffmpeg exited cleanly", () => {
    const base = {
      stopRequested: false,
      exitCode: 0 as number | null,
      durationS: 10 as number | null,
      anchorUs: 1_000_000,
      lastFrameEndPtsUs: 9_990_000 as number | null,
      zeroUs: 1_000_000,
      nowUs: 12_000_000,
    };
    assert.equal(isCrash(base), false, "ran its course");
    assert.equal(isCrash({ ...base, lastFrameEndPtsUs: 3_000_000, nowUs: 5_000_000 }), true, "early EOF");
    assert.equal(isCrash({ ...base, lastFrameEndPtsUs: 3_000_000 }), false, "clean exit once the time is up");
    assert.equal(isCrash({ ...base, exitCode: 1 }), true, "an error exit");
    assert.equal(isCrash({ ...base, exitCode: 1, stopRequested: true }), false, "asked to stop");
    assert.equal(isCrash({ ...base, durationS: null }), true, "no duration: any exit is unexpected");
    assert.equal(isCrash({ ...base, zeroUs: null, nowUs: 99e6 }), true, "never started: nothing recorded");
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
