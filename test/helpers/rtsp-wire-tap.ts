// Ground truth on the wire for an RTSP camera: a TCP proxy between ffmpeg and the RTSP server that
// reads the RTP packets interleaved in the RTSP connection (RFC 2326 §10.12: "$", channel, length)
// and logs, for each video frame (each new RTP timestamp on channel 0), when its first picture packet
// (carriesPicture), its last (the one with the marker bit) and its very first packet of any kind (a
// delimiter, SEI or parameter sets before the picture) were passed on to ffmpeg:
// "n,first_epoch_us,last_epoch_us,any_epoch_us".
// The server's own log (before its payloader) cannot say when a frame left it: GStreamer holds frames
// for its pipeline latency. Run as its own process so the test's event loop cannot disturb its timing:
//   node --import tsx test/helpers/rtsp-wire-tap.ts LISTEN_PORT SERVER_PORT LOGFILE [SILENT_MS]
// SILENT_MS: a camera slow to start. The tap drops the stream's RTP and RTCP for that long after its
// first packet on each connection (resuming at a frame's first packet): ffmpeg gets its PLAY answer,
// then nothing; frames dropped are not in the log.
import { appendFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { nowUs } from "./fake-camera.js";

/** Reads interleaved RTP from a server-to-client byte stream; calls frame() per completed frame. */
export class InterleavedReader {
  private pending = Buffer.alloc(0);
  /** The frame arriving: its RTP timestamp, its first picture packet's time, its first packet's. */
  private current: { ts: number; first: number | null; any: number } | null = null;
  private n = 0;
  /** With a silence: when the first packet came, and whether the stream is passed on yet. */
  private firstPacketUs: number | null = null;
  private passing: boolean;

  constructor(
    private readonly frame: (n: number, firstUs: number, lastUs: number, anyUs: number) => void,
    private readonly silentUs = 0,
  ) {
    this.passing = silentUs === 0;
  }

  /** Reads a chunk; returns what is passed on (all of it without a silence, as it came). */
  push(chunk: Buffer, atUs: number): Buffer {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.pending.length === 0) break;
      let unit: Buffer;
      if (this.pending[0] === 0x24) {
        if (this.pending.length < 4) break;
        const channel = this.pending[1]!;
        const length = this.pending.readUInt16BE(2);
        if (this.pending.length < 4 + length) break;
        unit = this.pending.subarray(0, 4 + length);
        const packet = unit.subarray(4);
        if (!this.passing) this.passing = this.silenceOver(channel, packet, atUs);
        if (this.passing) {
          if (channel === 0 && length >= 12) this.rtp(packet, atUs);
          out.push(unit);
        }
      } else {
        // An RTSP reply (headers, then Content-Length bytes of SDP): skip to the end of the message.
        const end = this.pending.indexOf("\r\n\r\n");
        if (end < 0) break;
        const length = Number(
          /content-length:\s*(\d+)/i.exec(this.pending.subarray(0, end).toString())?.[1] ?? 0,
        );
        if (this.pending.length < end + 4 + length) break;
        unit = this.pending.subarray(0, end + 4 + length);
        out.push(unit);
      }
      this.pending = this.pending.subarray(unit.length);
    }
    return this.silentUs === 0 ? chunk : Buffer.concat(out);
  }

  /** The silence ends at the first RTP packet that begins a frame once silentUs have passed. */
  private silenceOver(channel: number, packet: Buffer, atUs: number): boolean {
    this.firstPacketUs ??= atUs;
    if (channel !== 0 || packet.length < 12 || atUs - this.firstPacketUs < this.silentUs) return false;
    const ts = packet.readUInt32BE(4);
    const begins = this.lastDroppedTs !== null && ts !== this.lastDroppedTs;
    this.lastDroppedTs = ts;
    return begins;
  }

  private lastDroppedTs: number | null = null;

  private rtp(packet: Buffer, atUs: number): void {
    const ts = packet.readUInt32BE(4);
    const marker = (packet[1]! & 0x80) !== 0;
    if (!this.current || this.current.ts !== ts) this.current = { ts, first: null, any: atUs };
    if (this.current.first === null && carriesPicture(packet)) this.current.first = atUs;
    if (marker) {
      this.frame(this.n++, this.current.first ?? this.current.any, atUs, this.current.any);
      this.current = null;
    }
  }
}

/** H.264 NAL unit types that are no picture: SEI, sequence and picture parameter sets, delimiters. */
const NOT_PICTURE = new Set([6, 7, 8, 9]);

/**
 * Whether an RTP packet carries picture data: JPEG (payload type 26, RFC 2435) always; H.264 (RFC 6184)
 * unless it holds only parameter sets, SEI or delimiters. A server may send those at PLAY with the next
 * frame's timestamp, before that frame exists (GStreamer 1.26: its delimiter, SEI and parameter sets 50
 * ms before its slices; the camera's cadence puts the frame at its slices): a frame begins to arrive
 * with its first picture packet. Elsewhere a frame's delimiter and SEI come ~0.2 ms before its slices,
 * and ffmpeg stamps the frame at them: H.264 offsets from the wire read ~0.2 ms early by this rule.
 */
export function carriesPicture(packet: Buffer): boolean {
  if ((packet[1]! & 0x7f) === 26) return true;
  let o = 12 + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) !== 0) o += 4 + 4 * packet.readUInt16BE(o + 2);
  const type = packet[o]! & 0x1f;
  if (type === 24) {
    // STAP-A: NAL units, each after its 16-bit size.
    for (let p = o + 1; p + 2 < packet.length; p += 2 + packet.readUInt16BE(p))
      if (!NOT_PICTURE.has(packet[p + 2]! & 0x1f)) return true;
    return false;
  }
  // FU-A: the fragmented unit's type is in the FU header.
  if (type === 28) return !NOT_PICTURE.has(packet[o + 1]! & 0x1f);
  return !NOT_PICTURE.has(type);
}

function main(): void {
  const [listen, target, log] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
  const silentUs = Number(process.argv[5] || 0) * 1000;
  writeFileSync(log, "");
  // No Nagle on either side: a frame the server sends just after its PLAY answer would otherwise wait
  // for ffmpeg's delayed ACK of that answer (~40 ms) in the tap, after the tap had logged it as passed
  // on (GStreamer 1.26 sends the first frame at once; rtsp.test.ts failed so on Debian 13).
  createServer({ noDelay: true }, (client) => {
    const server = connect({ port: target, host: "127.0.0.1", noDelay: true });
    const reader = new InterleavedReader(
      (n, first, last, any) => appendFileSync(log, `${n},${first},${last},${any}\n`),
      silentUs,
    );
    client.on("data", (d) => server.write(d));
    server.on("data", (d) => {
      const at = nowUs();
      if (silentUs === 0) client.write(d);
      const out = reader.push(d, at);
      if (silentUs > 0 && out.length > 0) client.write(out);
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
