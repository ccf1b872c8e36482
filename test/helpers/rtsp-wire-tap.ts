// Ground truth on the wire for an RTSP camera: a TCP proxy between ffmpeg and the RTSP server that
// reads the RTP packets interleaved in the RTSP connection (RFC 2326 §10.12: "$", channel, length)
// and logs, for each video frame (each new RTP timestamp on channel 0), when its first and its last
// packet (the one with the marker bit) were passed on to ffmpeg: "n,first_epoch_us,last_epoch_us".
// The server's own log (before its payloader) cannot say when a frame left it: GStreamer holds frames
// for its pipeline latency. Run as its own process so the test's event loop cannot disturb its timing:
//   node --import tsx test/helpers/rtsp-wire-tap.ts LISTEN_PORT SERVER_PORT LOGFILE
import { appendFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { nowUs } from "./fake-camera.js";

/** Reads interleaved RTP from a server-to-client byte stream; calls frame() per completed frame. */
export class InterleavedReader {
  private pending = Buffer.alloc(0);
  private current: { ts: number; first: number } | null = null;
  private n = 0;

  constructor(private readonly frame: (n: number, firstUs: number, lastUs: number) => void) {}

  push(chunk: Buffer, atUs: number): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.pending.length === 0) return;
      if (this.pending[0] === 0x24) {
        if (this.pending.length < 4) return;
        const channel = this.pending[1]!;
        const length = this.pending.readUInt16BE(2);
        if (this.pending.length < 4 + length) return;
        if (channel === 0 && length >= 12) this.rtp(this.pending.subarray(4, 4 + length), atUs);
        this.pending = this.pending.subarray(4 + length);
      } else {
        // An RTSP reply (headers, then Content-Length bytes of SDP): skip to the end of the message.
        const end = this.pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(
          /content-length:\s*(\d+)/i.exec(this.pending.subarray(0, end).toString())?.[1] ?? 0,
        );
        if (this.pending.length < end + 4 + length) return;
        this.pending = this.pending.subarray(end + 4 + length);
      }
    }
  }

  private rtp(packet: Buffer, atUs: number): void {
    const ts = packet.readUInt32BE(4);
    const marker = (packet[1]! & 0x80) !== 0;
    if (!this.current || this.current.ts !== ts) this.current = { ts, first: atUs };
    if (marker) {
      this.frame(this.n++, this.current.first, atUs);
      this.current = null;
    }
  }
}

function main(): void {
  const [listen, target, log] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
  writeFileSync(log, "");
  createServer((client) => {
    const server = connect(target, "127.0.0.1");
    const reader = new InterleavedReader((n, first, last) => appendFileSync(log, `${n},${first},${last}\n`));
    client.on("data", (d) => server.write(d));
    server.on("data", (d) => {
      const at = nowUs();
      client.write(d);
      reader.push(d, at);
    });
    const close = (): void => {
      client.destroy();
      server.destroy();
    };
    client.on("error", close).on("close", close);
    server.on("error", close).on("close", close);
  }).listen(listen, "127.0.0.1", () => process.stdout.write("listening\n"));
  process.on("SIGTERM", () => process.exit(0));
}

if (process.argv[1]?.endsWith("rtsp-wire-tap.ts")) main();
