import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderSidecar, sidecarName } from "../../node/data/frames-sidecar.js";
import { parseSidecar } from "../../align/session-reader.js";

describe("frames sidecar", () => {
  it("names it beside its batch", () => {
    assert.equal(sidecarName("SBC001_exp01_00003.mkv"), "SBC001_exp01_00003.frames.csv");
  });
  it("renders one row per frame: session index, batch index, pts from the batch's start, wall-clock", () => {
    const csv = renderSidecar(300, 1795570595_000000, [10_000_000, 10_033_333, 10_066_667]);
    assert.equal(
      csv,
      [
        "frame,batch_frame,pts_s,epoch_s,time_utc",
        "300,0,0.000000,1795570605.000000,2026-11-25T01:36:45.000000Z",
        "301,1,0.033333,1795570605.033333,2026-11-25T01:36:45.033333Z",
        "302,2,0.066667,1795570605.066667,2026-11-25T01:36:45.066667Z",
        "",
      ].join("\n"),
    );
  });
  it("with a latency correction: epoch_s and time_utc corrected, the stamped time in raw_epoch_s", () => {
    const csv = renderSidecar(0, 1795570595_000000, [10_000_000, 10_033_333], 87_250);
    assert.equal(
      csv,
      [
        "frame,batch_frame,pts_s,epoch_s,time_utc,raw_epoch_s",
        "0,0,0.000000,1795570604.912750,2026-11-25T01:36:44.912750Z,1795570605.000000",
        "1,1,0.033333,1795570604.946083,2026-11-25T01:36:44.946083Z,1795570605.033333",
        "",
      ].join("\n"),
    );
    const rows = parseSidecar(csv, "b.mkv", 0);
    assert.deepEqual(
      rows.map((r) => [r.epochUs, r.rawEpochUs]),
      [
        [1795570604_912750, 1795570605_000000],
        [1795570604_946083, 1795570605_033333],
      ],
    );
    // Without one, the raw time is the time.
    const plain = parseSidecar(renderSidecar(0, 1795570595_000000, [10_000_000]), "b.mkv", 0);
    assert.equal(plain[0]!.rawEpochUs, plain[0]!.epochUs);
  });
});
