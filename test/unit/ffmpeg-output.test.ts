import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseInputStart, parseStderrLine, parseStdoutLine } from "../../node/ffmpeg/ffmpeg-output.js";

describe("ffmpeg output parsers", () => {
  it("reads framecrc lines (pts in time-base ticks), segment list lines and the time base", () => {
    assert.deepEqual(
      parseStdoutLine("0,    2032188,    2032188,    33333,    20957, 0x305416f1, S=1,        8"),
      {
        kind: "frame",
        pts: 2032188,
        duration: 33333,
        bytes: 20957,
        key: true,
      },
    );
    // framecrc prints flags only when they are not "keyframe" alone.
    assert.equal(
      (
        parseStdoutLine("0,       3022,       3022,     3000,      650, 0xcf51fa1c, F=0x0") as {
          key: boolean;
        }
      ).key,
      false,
    );
    assert.equal(
      (parseStdoutLine("0,          0,          0,     3000,     1980, 0xca22db15") as { key: boolean }).key,
      true,
    );
    assert.deepEqual(parseStdoutLine("SBC001_exp01_00000.mkv,0.000000,2.032000"), {
      kind: "segment",
      file: "SBC001_exp01_00000.mkv",
      start: 0,
      end: 2.032,
    });
    assert.deepEqual(parseStdoutLine("#tb 0: 1/1000000"), { kind: "timebase", num: 1, den: 1000000 });
    assert.equal(parseStdoutLine("#software: Lavf59.27.100").kind, "other");
    assert.equal(parseStdoutLine("").kind, "other");
  });

  it("reads the input start as epoch µs without float rounding", () => {
    assert.equal(
      parseInputStart("[info]   Duration: N/A, start: 1795570595.680308, bitrate: N/A"),
      1795570595680308,
    );
    assert.equal(parseInputStart("  Duration: N/A, start: 0.000000, bitrate: N/A"), 0);
    assert.equal(parseInputStart("[info] Stream #0:0: Video: mjpeg"), null);
  });

  it("routes -loglevel level+info prefixes", () => {
    assert.equal(
      parseStderrLine("[tcp @ 0x55] [error] Connection to tcp://127.0.0.1:1 failed").level,
      "error",
    );
    assert.equal(parseStderrLine("[warning] something").level, "warn");
    assert.equal(parseStderrLine("[info] Input #0, lavfi").level, "info");
    assert.equal(parseStderrLine("no prefix").level, "info");
    assert.equal(
      parseStderrLine("[info] frame=  300 fps= 30 q=5.0 size=    6000kB time=00:00:10.00").level,
      "debug",
    );
  });
});
