import http from "node:http";
import https from "node:https";
import net from "node:net";
import dgram from "node:dgram";
import { realTimers, type Timers } from "../../platform/timers.js";

// Which demuxer a network camera needs, found before ffmpeg starts: ffmpeg's own probing picks
// mpjpeg or jpeg_pipe for MJPEG, which stamp arrival times in a 1/25 s time base (a 30 fps camera
// then records on a 25 fps grid, 20 % slow), and probes a raw TCP stream for ~5 s. The raw `mjpeg`
// demuxer keeps µs arrival stamps for both MJPEG forms and starts at the first frame.

/** Pure: the demuxer for an HTTP response's Content-Type, or null to let ffmpeg decide. */
export function formatFromContentType(contentType: string | undefined): string | null {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "multipart/x-mixed-replace") return "mjpeg";
  if (type === "video/mp2t") return "mpegts";
  return null;
}

/** Pure: the demuxer for a raw stream's first bytes, or null to let ffmpeg decide. */
export function formatFromBytes(head: Buffer): string | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "mjpeg";
  if (head.length >= 1 && head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return "mpegts";
  const annexB =
    head.subarray(0, 4).equals(Buffer.from([0, 0, 0, 1])) ||
    head.subarray(0, 3).equals(Buffer.from([0, 0, 1]));
  return annexB ? "h264" : null;
}

/** What the node learned of a network camera before ffmpeg starts. */
export interface StreamLook {
  /** The demuxer to force. */
  format: string;
  /**
   * ffmpeg hands each frame over only when the next one begins to arrive, so its arrival stamp is the
   * next frame's (MPEG-TS whose video PES packets carry no length): the recorder stamps each frame
   * with the stamp of the one before instead (ffmpeg-args.ts), which is when its first bytes arrived.
   */
  lateHandover: boolean;
}

const PACKET = 188;

/**
 * Pure: whether the first video PES packet in an MPEG-TS byte stream has no length (0: "unbounded",
 * what ffmpeg's and GStreamer's muxers write for video), or null when none is found in `ts`.
 * ffmpeg's demuxer hands over a PES of known length once complete, one without only when the next
 * PES begins.
 */
export function videoPesUnbounded(ts: Buffer): boolean | null {
  const first = ts.indexOf(0x47);
  if (first < 0) return null;
  for (let o = first; o + PACKET <= ts.length; o += PACKET) {
    const p = ts.subarray(o, o + PACKET);
    if (p[0] !== 0x47 || (p[1]! & 0x40) === 0) continue;
    const adaptation = (p[3]! >> 4) & 0x3;
    if ((adaptation & 0x1) === 0) continue;
    const payload = adaptation === 0x3 ? 5 + p[4]! : 4;
    if (payload + 6 > PACKET) continue;
    const pes = p.subarray(payload);
    const video = pes[0] === 0 && pes[1] === 0 && pes[2] === 1 && pes[3]! >= 0xe0 && pes[3]! <= 0xef;
    if (video) return pes.readUInt16BE(4) === 0;
  }
  return null;
}

/** Pure: what a raw stream's first bytes say (lookFromBytes), or whether more bytes would tell more. */
export function lookFromBytes(head: Buffer, final: boolean): StreamLook | null | "more" {
  const format = formatFromBytes(head);
  if (format === null) return head.length < 189 && !final ? "more" : null;
  if (format !== "mpegts") return { format, lateHandover: false };
  const unbounded = videoPesUnbounded(head);
  if (unbounded === null && !final && head.length < 256 * 1024) return "more";
  // No video PES seen yet: ffmpeg's and GStreamer's muxers leave video PES unbounded.
  return { format, lateHandover: unbounded ?? true };
}

/**
 * Looks at what an http(s)://, tcp:// or udp:// camera serves (its Content-Type, its first bytes or
 * datagrams) and returns the demuxer to force, or null: another scheme, an answer not recognised, no
 * answer within `timeoutMs` (ffmpeg then reports the camera's own error). A udp:// camera that sends
 * nothing within the time is taken for MPEG-TS, what udp:// URLs carry (RTP needs an SDP file).
 */
export function detectStreamFormat(
  url: string,
  timeoutMs = 1000,
  timers: Timers = realTimers,
): Promise<StreamLook | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(null);
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return fromHttp(parsed, timeoutMs, timers);
  if (parsed.protocol === "tcp:") return fromTcp(parsed, timeoutMs, timers);
  if (parsed.protocol === "udp:") return fromUdp(parsed, timeoutMs, timers);
  return Promise.resolve(null);
}

/** Reads bytes until lookFromBytes can tell, the source ends or the time is up. */
function reader(
  timeoutMs: number,
  timers: Timers,
  resolve: (look: StreamLook | null) => void,
  close: () => void,
): { push: (chunk: Buffer) => void; end: () => void } {
  let head = Buffer.alloc(0);
  let settled = false;
  const done = (look: StreamLook | null): void => {
    if (settled) return;
    settled = true;
    timers.clearTimeout(timer);
    close();
    resolve(look);
  };
  const timer = timers.setTimeout(() => end(), timeoutMs);
  const end = (): void => {
    const look = lookFromBytes(head, true);
    done(look === "more" ? null : look);
  };
  return {
    push: (chunk) => {
      head = Buffer.concat([head, chunk]);
      const look = lookFromBytes(head, false);
      if (look !== "more") done(look);
    },
    end,
  };
}

function fromHttp(url: URL, timeoutMs: number, timers: Timers): Promise<StreamLook | null> {
  return new Promise((resolve) => {
    const get = url.protocol === "https:" ? https.get : http.get;
    const req = get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const format = res.statusCode === 200 ? formatFromContentType(res.headers["content-type"]) : null;
      if (format !== "mpegts") {
        resolve(format ? { format, lateHandover: false } : null);
        res.destroy();
        req.destroy();
        return;
      }
      // MPEG-TS: read on to the first video PES, to learn whether it has a length.
      const r = reader(timeoutMs, timers, resolve, () => {
        res.destroy();
        req.destroy();
      });
      res.on("data", (chunk: Buffer) => r.push(chunk));
      res.on("end", r.end);
      res.on("error", r.end);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
    req.on("close", () => resolve(null));
  });
}

function fromTcp(url: URL, timeoutMs: number, timers: Timers): Promise<StreamLook | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const r = reader(timeoutMs, timers, resolve, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => r.push(chunk));
    socket.on("error", r.end);
    socket.on("close", r.end);
  });
}

function fromUdp(url: URL, timeoutMs: number, timers: Timers): Promise<StreamLook | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    const mpegts = (look: StreamLook | null): void =>
      resolve(look ?? { format: "mpegts", lateHandover: true });
    const r = reader(timeoutMs, timers, mpegts, () => {
      try {
        socket.close();
      } catch {
        // already closed by its error
      }
    });
    socket.on("message", (chunk: Buffer) => r.push(chunk));
    socket.on("error", () => r.end());
    socket.bind(Number(url.port), () => {
      const first = Number(url.hostname.split(".")[0]);
      try {
        if (first >= 224 && first <= 239) socket.addMembership(url.hostname);
      } catch {
        r.end();
      }
    });
  });
}
