import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BatchAssembler } from "../../node/ffmpeg/batch-assembler.js";
import { parseStdoutLine } from "../../node/ffmpeg/ffmpeg-output.js";

const frame = (pts: number) => parseStdoutLine(`0, ${pts}, ${pts}, 33333, 20000, 0x0, S=1, 8`);
const seg = (n: number, s: number, e: number) =>
  parseStdoutLine(`B_${String(n).padStart(5, "0")}.mkv,${s},${e}`);
const name = (seq: number) => `B_${String(seq).padStart(5, "0")}.mkv`;

describe("BatchAssembler", () => {
  // The first two read timelines as recorded before MUX_SHIFT_EXPR (muxShift "none"): pts as they were.
  it("closes a batch at its list entry and ends it at the next batch's first frame", () => {
    const a = new BatchAssembler(name, 0, "none");
    a.push(parseStdoutLine("#tb 0: 1/1000000"));
    for (const pts of [0, 33400, 66600]) assert.deepEqual(a.push(frame(pts)), []);
    assert.deepEqual(a.push(seg(0, 0, 0.1)), []);
    const [b0] = a.push(frame(99_800));
    assert.deepEqual(b0, {
      seq: 0,
      file: "B_00000.mkv",
      framePtsUs: [0, 33400, 66600],
      endPtsUs: 99_800,
      finalized: true,
      tickUs: 1,
    });
    a.push(frame(133_300));
    a.push(seg(1, 0.1, 0.166));
    const rest = a.finish();
    assert.deepEqual(rest, [
      {
        seq: 1,
        file: "B_00001.mkv",
        framePtsUs: [99_800, 133_300],
        endPtsUs: 166_633,
        finalized: true,
        tickUs: 1,
      },
    ]);
  });

  it("hands over frames of a file ffmpeg never closed, marked unfinalized", () => {
    const a = new BatchAssembler(name, 0, "none");
    a.push(frame(0));
    a.push(seg(0, 0, 0.033));
    const [closed] = a.push(frame(40_000));
    assert.equal(closed!.endPtsUs, 40_000);
    a.push(frame(73_000));
    const out = a.finish();
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], {
      seq: 1,
      file: "B_00001.mkv",
      framePtsUs: [40_000, 73_000],
      endPtsUs: 106_333,
      finalized: false,
      tickUs: 1,
    });
  });

  it("converts a copied stream's own time base to µs (jpeg_pipe's 1/25 here)", () => {
    const a = new BatchAssembler(name);
    a.push(parseStdoutLine("#tb 0: 1/25"));
    // The first frame at zero, its own time (100 ticks) + 1 as its duration (stream-timestamps.ts).
    a.push(parseStdoutLine("0, 0, 0, 101, 5000, 0x0"));
    a.push(parseStdoutLine("0, 101, 101, 1, 5000, 0x0"));
    a.push(seg(0, 4, 4.08));
    const [b] = a.finish();
    assert.deepEqual(b!.framePtsUs, [4_000_000, 4_040_000]);
    assert.equal(b!.tickUs, 40_000, "the batch knows its times are 40 ms coarse");
    assert.equal(b!.endPtsUs, 4_080_000);
  });

  it("adds back the shift ffmpeg applied before muxing, in whole ticks of each time base", () => {
    // µs: 500 ticks; 1/90000 (RTSP): 45 ticks = 500 µs; 1/1200000 (raw MJPEG): 600; 1/1000 and 1/25: none.
    const cases: [string, number, number][] = [
      ["1/1000000", -500, 0],
      ["1/90000", 90_000 - 45, 1_000_000],
      ["1/1200000", 1_200_000 - 600, 1_000_000],
      ["1/1000", 1000, 1_000_000],
      ["1/25", 25, 1_000_000],
    ];
    for (const [tb, printed, trueUs] of cases) {
      // A timeline recorded while every frame was moved back (its attempts record says mux_shift true).
      const all = new BatchAssembler(name, 0, "all");
      all.push(parseStdoutLine(`#tb 0: ${tb}`));
      all.push(parseStdoutLine(`0, ${printed}, ${printed}, 1, 5000, 0x0`));
      assert.equal(all.firstFramePtsUs, trueUs, tb);
      // Now: the first frame muxed at zero, its time as its duration; the others moved back.
      const [num, den] = tb.split("/").map(Number) as [number, number];
      // (Both at their true times: the first at trueUs, the second a second later.)
      const firstTicks = Math.round((trueUs * den) / (num * 1e6));
      const second = printed + den;
      const now = new BatchAssembler(name);
      now.push(parseStdoutLine(`#tb 0: ${tb}`));
      now.push(parseStdoutLine(`0, 0, 0, ${firstTicks + 1}, 5000, 0x0`));
      now.push(parseStdoutLine(`0, ${second}, ${second}, 1, 5000, 0x0`));
      now.push(seg(0, 0, 2));
      const [b] = now.finish();
      assert.deepEqual(
        b!.framePtsUs,
        [trueUs, trueUs + 1_000_000],
        `${tb}: the first frame's time from its duration`,
      );
      // A timeline from the days the first frame kept its time and only the others were moved back.
      const afterFirst = new BatchAssembler(name, 0, "after_first");
      afterFirst.push(parseStdoutLine(`#tb 0: ${tb}`));
      afterFirst.push(parseStdoutLine(`0, ${firstTicks}, ${firstTicks}, 1, 5000, 0x0`));
      afterFirst.push(parseStdoutLine(`0, ${second}, ${second}, 1, 5000, 0x0`));
      afterFirst.push(seg(0, 0, 2));
      assert.deepEqual(afterFirst.finish()[0]!.framePtsUs, [trueUs, trueUs + 1_000_000], tb);
    }
    // A first frame before zero (a copied H.264 stream's, estimated a frame early) keeps its own time.
    const early = new BatchAssembler(name);
    early.push(parseStdoutLine("#tb 0: 1/90000"));
    early.push(parseStdoutLine("0, -3003, -3003, 3003, 5000, 0x0"));
    assert.equal(early.firstFramePtsUs, -33_367);
    // Recovery of a timeline older than the shift reads its pts as they are.
    const old = new BatchAssembler(name, 0, "none");
    old.push(frame(-500));
    assert.equal(old.firstFramePtsUs, -500);
  });

  it("a frame whose length ffmpeg does not know (1 tick) lasts as long as the interval before it", () => {
    const a = new BatchAssembler(name, 0, "none");
    a.push(parseStdoutLine("#tb 0: 1/1000000"));
    for (const pts of [0, 33_333, 66_667]) a.push(parseStdoutLine(`0, ${pts}, ${pts}, 1, 5000, 0x0`));
    const [b] = a.finish();
    assert.equal(b!.endPtsUs, 66_667 + 33_334, "the last frame ends one interval after it began");
  });

  it("knows the longest interval between keyframes: where a copied stream can be cut", () => {
    const a = new BatchAssembler(name, 0, "none");
    a.push(parseStdoutLine("#tb 0: 1/1000000"));
    const line = (pts: number, key: boolean) => `0, ${pts}, ${pts}, 33333, 500, 0x0${key ? "" : ", F=0x0"}`;
    [0, 1, 2, 3, 4, 5, 6].forEach((i) =>
      a.push(parseStdoutLine(line(i * 100_000, i === 0 || i === 4 || i === 6))),
    );
    assert.equal(a.maxKeyframeIntervalUs, 400_000);
  });

  it("emits nothing at finish when nothing was recorded", () => {
    assert.deepEqual(new BatchAssembler(name).finish(), []);
  });
});
