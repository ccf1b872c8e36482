import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssembledBatch } from "../../node/ffmpeg/batch-assembler.js";
import { BatchHoldback, FLUSHED_SPAN_US } from "../../node/session/batch-holdback.js";

const batch = (seq: number): AssembledBatch => ({
  seq,
  file: `b${seq}.mkv`,
  framePtsUs: [seq * 1_000_000],
  endPtsUs: (seq + 1) * 1_000_000,
  finalized: true,
  tickUs: 1,
});

describe("BatchHoldback", () => {
  it("holds a closed batch until the next one's first cluster is in its file", () => {
    const h = new BatchHoldback();
    assert.deepEqual(h.closed(batch(0), 0), [], "the next batch has one frame: held");
    assert.deepEqual(h.release(FLUSHED_SPAN_US - 1), [], "its frames span less than a cluster: held");
    assert.deepEqual(
      h.release(FLUSHED_SPAN_US).map((b) => b.seq),
      [0],
    );
    assert.deepEqual(h.release(FLUSHED_SPAN_US), [], "released once");
  });

  it("a later batch closing releases the earlier ones, in order; the newest stays held", () => {
    const h = new BatchHoldback();
    h.closed(batch(0), 0);
    assert.deepEqual(
      h.closed(batch(1), 0).map((b) => b.seq),
      [0],
    );
    assert.deepEqual(
      h.drain().map((b) => b.seq),
      [1],
      "at exit, what is held goes with the rest",
    );
    assert.deepEqual(h.drain(), []);
  });
});
