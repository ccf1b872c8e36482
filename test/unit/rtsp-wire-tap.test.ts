import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { carriesPicture, InterleavedReader } from "../helpers/rtsp-wire-tap.js";

// The RTSP tests' ground truth (test/helpers/rtsp-wire-tap.ts) is itself tested: a wrong instrument
// fails or passes the node for the wrong reason.
const rtp = (pt: number, ts: number, marker: boolean, payload: number[]): Buffer => {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | pt;
  header.writeUInt32BE(ts, 4);
  return Buffer.concat([header, Buffer.from(payload)]);
};
const interleaved = (packet: Buffer): Buffer =>
  Buffer.concat([Buffer.from([0x24, 0, packet.length >> 8, packet.length & 0xff]), packet]);

describe("the RTSP wire tap (test/helpers/rtsp-wire-tap.ts)", () => {
  it("tells picture packets from parameter sets, SEI and delimiters, single, aggregated (STAP-A) or fragmented (FU-A)", () => {
    assert.equal(carriesPicture(rtp(26, 0, true, [0, 0, 0, 0])), true, "JPEG");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x67, 1])), false, "SPS");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x68, 1])), false, "PPS");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x09, 1])), false, "delimiter");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x65, 1])), true, "IDR slice");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x41, 1])), true, "slice");
    assert.equal(
      carriesPicture(rtp(96, 0, false, [0x18, 0, 2, 0x67, 1, 0, 2, 0x68, 1])),
      false,
      "STAP-A SPS+PPS",
    );
    assert.equal(
      carriesPicture(rtp(96, 0, false, [0x18, 0, 2, 0x67, 1, 0, 2, 0x65, 1])),
      true,
      "STAP-A SPS+IDR",
    );
    assert.equal(carriesPicture(rtp(96, 0, false, [0x1c, 0x85, 1])), true, "FU-A of an IDR slice");
    assert.equal(carriesPicture(rtp(96, 0, false, [0x1c, 0x86, 1])), false, "FU-A of an SEI");
  });
  it("logs a frame from its first picture packet to its marker, and its first packet of any kind", () => {
    const frames: [number, number, number, number][] = [];
    const reader = new InterleavedReader((n, first, last, any) => frames.push([n, first, last, any]));
    reader.push(interleaved(rtp(96, 1000, false, [0x67, 1])), 0); // SPS at PLAY
    reader.push(interleaved(rtp(96, 1000, false, [0x65, 1])), 50_000);
    reader.push(interleaved(rtp(96, 1000, true, [0x65, 2])), 51_000);
    reader.push(interleaved(rtp(96, 4000, true, [0x41, 1])), 83_000);
    assert.deepEqual(frames, [
      [0, 50_000, 51_000, 0],
      [1, 83_000, 83_000, 83_000],
    ]);
  });
});
