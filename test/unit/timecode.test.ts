import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatTimecode, parseTimecode, TIMECODE_PREFIX } from "../../contract/timecode.js";
import * as page from "../../ui/public/timecode-format.js";

describe("the time code's text (public contract: labx-tc:<integer µs since the epoch>)", () => {
  it("is the contract's exact form", () => {
    assert.equal(TIMECODE_PREFIX, "labx-tc:");
    assert.equal(formatTimecode(1_796_197_367_378_100), "labx-tc:1796197367378100");
    assert.equal(formatTimecode(1_796_197_367_378.4), "labx-tc:1796197367378", "rounded to the µs");
    assert.equal(parseTimecode("labx-tc:1796197367378100"), 1_796_197_367_378_100);
    assert.throws(() => formatTimecode(-1), RangeError);
  });

  it("reads back every time it writes; the page writes what the contract does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000_000 }), (us) => {
        assert.equal(page.formatTimecode(us), formatTimecode(us));
        assert.equal(page.TIMECODE_PREFIX, TIMECODE_PREFIX);
        assert.equal(parseTimecode(formatTimecode(us)), us);
      }),
    );
  });

  it("refuses any other text", () => {
    for (const t of [
      "",
      "labx-tc:",
      "labx-tc:-5",
      "labx-tc:1.5",
      "labx-tc:12a",
      "LABX-TC:1",
      " labx-tc:1",
      "labx-tc:1 ",
      "labx-tc:123456789012345678",
      "labx-frame:3",
    ])
      assert.equal(parseTimecode(t), null, JSON.stringify(t));
  });
});
