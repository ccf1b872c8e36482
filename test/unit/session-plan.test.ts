import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { restartAnchor, restartGrid, runArgs } from "../../node/session/session-plan.js";
import type { CameraOptions } from "../../node/session/session-types.js";

const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

const opts = (alignToUs: number | null, duration: number | null): CameraOptions => ({
  node: "N1",
  session: "s1",
  sessionDir: "/data/s1",
  ffmpegPath: "ffmpeg",
  launcher: [],
  capture: {
    camera: "synthetic",
    videoSize: "64x48",
    framerate: 30,
    inputFormat: "mjpeg",
    codec: "auto",
    batchDuration: 2,
    duration,
    alignToUs,
  },
  startTimeoutMs: 10_000,
  stopTimeoutMs: 5_000,
});

describe("a session's runs: options and arguments (pure)", () => {
  it("a restarted run starts at the session's last boundary at or before now", () => {
    const zero = 1_795_570_800_000_000;
    assert.equal(restartGrid(zero, zero + 5_300_000, 2), zero + 4_000_000);
    assert.equal(restartGrid(zero, zero + 4_000_000, 2), zero + 4_000_000, "on a boundary: that one");
    assert.equal(restartGrid(zero, zero + 3_999_999, 2), zero + 2_000_000);
    assert.equal(restartGrid(zero, zero + 700_000, 0.5), zero + 500_000);
  });

  it("zero is `at` for a synchronized session, else its first frame", () => {
    const at = 1_795_570_800_000_000;
    assert.deepEqual(restartAnchor(opts(at, null), at + 20_000, at + 7_100_000), {
      zeroUs: at,
      gridUs: at + 6_000_000,
    });
    const first = at + 123_456;
    assert.deepEqual(restartAnchor(opts(null, null), first, first + 3_000_001), {
      zeroUs: first,
      gridUs: first + 2_000_000,
    });
  });

  it("the first run is the session as asked; a restarted one is anchored at its boundary and ends when the session would", () => {
    const at = 1_795_570_800_000_000;
    const first = runArgs(opts(at, 60), 0, null);
    assert.equal(after(first, "-itsoffset"), "-1795570799.999999");
    assert.equal(after(first, "-t"), "60");
    const again = runArgs(opts(at, 60), 7, { zeroUs: at, gridUs: at + 20_000_000 });
    assert.equal(
      after(again, "-itsoffset"),
      "-1795570819.999999",
      "timeline zero at the boundary (less 1 µs)",
    );
    assert.ok(again.includes("-copyts"));
    assert.equal(after(again, "-t"), "40", "the session still ends at at + 60 s");
    assert.match(again.at(-1)!, /segment_start_number=7/);
    const open = runArgs(opts(null, null), 3, { zeroUs: at, gridUs: at + 2_000_000 });
    assert.ok(!open.includes("-t"), "no duration: until stop");
  });
});
