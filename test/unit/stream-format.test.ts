import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFromBytes, formatFromContentType } from "../../node/camera/stream-format.js";

describe("a network camera's format (pure)", () => {
  it("from an HTTP Content-Type: multipart MJPEG and MPEG-TS; anything else is ffmpeg's to decide", () => {
    assert.equal(formatFromContentType("multipart/x-mixed-replace; boundary=frame"), "mjpeg");
    assert.equal(formatFromContentType("Multipart/X-Mixed-Replace;boundary=--myboundary"), "mjpeg");
    assert.equal(formatFromContentType("video/MP2T"), "mpegts");
    for (const other of ["image/jpeg", "text/html", "application/vnd.apple.mpegurl", undefined])
      assert.equal(formatFromContentType(other), null, String(other));
  });

  it("from a raw stream's first bytes: JPEG, MPEG-TS (sync bytes 188 apart), H.264 Annex B", () => {
    assert.equal(formatFromBytes(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), "mjpeg");
    const ts = Buffer.alloc(376);
    ts[0] = 0x47;
    ts[188] = 0x47;
    assert.equal(formatFromBytes(ts), "mpegts");
    ts[188] = 0;
    assert.equal(formatFromBytes(ts), null, "one 0x47 is not a transport stream");
    assert.equal(formatFromBytes(Buffer.from([0, 0, 0, 1, 0x67])), "h264");
    assert.equal(formatFromBytes(Buffer.from([0, 0, 1, 0x67])), "h264");
    assert.equal(formatFromBytes(Buffer.from("RIFF....")), null);
    assert.equal(formatFromBytes(Buffer.alloc(0)), null);
  });
});
