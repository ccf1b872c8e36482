import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { exactPlan } from "../../node/session/camera-plan.js";
import { InexactTimesError } from "../../node/session/session-types.js";
import {
  detectStreamFormat,
  formatFromBytes,
  formatFromContentType,
  lookFromBytes,
  videoPesUnbounded,
} from "../../node/camera/stream-format.js";
import { systemClock } from "../../platform/clock.js";

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

describe("whether ffmpeg hands an MPEG-TS camera's frames over late (pure)", () => {
  // Transport packets as ffmpeg's muxer writes them: PAT, PMT, then a video PES (stream id 0xE0) whose
  // length field is 0 (unbounded, the default) or the PES's size (-omit_video_pes_length 0).
  const packet = (pid: number, start: boolean, payload: number[], adaptation = 0): Buffer => {
    const p = Buffer.alloc(188, 0xff);
    p[0] = 0x47;
    p[1] = (start ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    p[3] = adaptation ? 0x30 : 0x10;
    let o = 4;
    if (adaptation) {
      p[4] = adaptation;
      o = 5 + adaptation;
    }
    Buffer.from(payload).copy(p, o);
    return p;
  };
  const pes = (length: number) => [0, 0, 1, 0xe0, length >> 8, length & 0xff, 0x80, 0x80, 5];
  const psi = [packet(0, true, [0]), packet(0x1000, true, [0])];

  it("finds the first video PES, past tables and an adaptation field, and reads its length", () => {
    assert.equal(videoPesUnbounded(Buffer.concat([...psi, packet(0x100, true, pes(0))])), true);
    assert.equal(videoPesUnbounded(Buffer.concat([...psi, packet(0x100, true, pes(0), 7)])), true);
    assert.equal(videoPesUnbounded(Buffer.concat([...psi, packet(0x100, true, pes(2400))])), false);
    assert.equal(videoPesUnbounded(Buffer.concat(psi)), null, "no video PES yet");
    const audio = [0, 0, 1, 0xc0, 0, 0, 0x80, 0x80, 5];
    assert.equal(
      videoPesUnbounded(Buffer.concat([...psi, packet(0x101, true, audio)])),
      null,
      "audio is not video",
    );
  });

  it("reads on until it can tell; at the end of its time, unbounded is assumed (the muxers' default)", () => {
    assert.equal(lookFromBytes(Buffer.concat(psi), false), "more");
    assert.deepEqual(lookFromBytes(Buffer.concat(psi), true), { format: "mpegts", lateHandover: true });
    assert.deepEqual(lookFromBytes(Buffer.concat([...psi, packet(0x100, true, pes(900))]), false), {
      format: "mpegts",
      lateHandover: false,
    });
    assert.deepEqual(lookFromBytes(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), false), {
      format: "mjpeg",
      lateHandover: false,
    });
    assert.equal(lookFromBytes(Buffer.from([0xff]), false), "more");
    assert.equal(lookFromBytes(Buffer.from([0xff]), true), null);
  });
});

describe("the look at a network camera (real sockets on loopback)", () => {
  /** A TCP camera that accepts and sends `bytes` after `delayMs` (never, with null). */
  async function camera(
    bytes: Buffer,
    delayMs: number | null,
  ): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const timers = new Set<NodeJS.Timeout>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      if (delayMs !== null) timers.add(setTimeout(() => s.write(bytes), delayMs));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as net.AddressInfo;
    return {
      url: `tcp://127.0.0.1:${port}`,
      close: async () => {
        timers.forEach(clearTimeout);
        sockets.forEach((s) => s.destroy());
        await new Promise((r) => server.close(r));
      },
    };
  }
  const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);

  it("waits for a camera silent at first, and says so once; a camera silent for the whole wait is 'silent'", async () => {
    const slow = await camera(JPEG, 700);
    const silent = await camera(JPEG, null);
    try {
      let told = 0;
      const look = await detectStreamFormat(
        slow.url,
        {
          waitMs: 3000,
          lookMs: 1000,
          afterMs: 200,
          onWaiting: () => told++,
        },
        systemClock(),
      );
      assert.deepEqual(look, { format: "mjpeg", lateHandover: false });
      assert.equal(told, 1);
      assert.equal(
        await detectStreamFormat(silent.url, { waitMs: 400, lookMs: 1000 }, systemClock()),
        "silent",
      );
    } finally {
      await slow.close();
      await silent.close();
    }
  });

  it("a camera that refuses the connection is not silent: null, ffmpeg will say why", async () => {
    const gone = await camera(JPEG, null);
    const url = gone.url;
    await gone.close();
    assert.equal(await detectStreamFormat(url, { waitMs: 2000, lookMs: 500 }, systemClock()), null);
  });
});

describe("after ffmpeg's own pick was refused for a coarse clock", () => {
  const plan = {
    camera: "tcp://cam:8000",
    inputFormat: "mjpeg" as const,
    videoSize: "640x480",
    framerate: 30,
    streamFormat: null,
    lateHandover: false,
    probed: true,
  };
  const refused = (demuxer: string | null) => new InexactTimesError("coarse", demuxer);
  it("an MJPEG demuxer that counts frames is replaced by raw MJPEG, once", () => {
    assert.deepEqual(exactPlan({ stream_format: "" }, plan, refused("jpeg_pipe")), {
      ...plan,
      streamFormat: "mjpeg",
    });
    assert.equal(
      exactPlan({ stream_format: "" }, { ...plan, streamFormat: "mjpeg" }, refused("jpeg_pipe")),
      null,
    );
  });
  it("not the user's --stream-format, nor a demuxer that is not MJPEG", () => {
    assert.equal(exactPlan({ stream_format: "jpeg_pipe" }, plan, refused("jpeg_pipe")), null);
    assert.equal(exactPlan({ stream_format: "" }, plan, refused("flv")), null);
    assert.equal(exactPlan({ stream_format: "" }, plan, refused(null)), null);
  });
});
