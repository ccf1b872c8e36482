import http from "node:http";
import https from "node:https";
import net from "node:net";
import dgram from "node:dgram";
import type { Clock } from "../../platform/clock.js";
import type { Timers } from "../../platform/timers.js";

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

/** How long the look waits: for the camera's first bytes, then to read enough of them. */
export interface LookTimes {
  /** A camera silent this long after labx connects gets "silent" (--camera-wait). */
  waitMs: number;
  /** From the first bytes on, to recognise the stream (an HTTP camera: from its answer). */
  lookMs: number;
  /** Called once when the camera has said nothing for `afterMs` (the node shows the wait in its state). */
  onWaiting?: () => void;
  afterMs?: number;
}

/** What the look found: the demuxer to force, null (not recognised: ffmpeg decides), or a silent camera. */
export type LookResult = StreamLook | null | "silent";

/**
 * Looks at what an http(s)://, tcp:// or udp:// camera serves (its Content-Type, its first bytes or
 * datagrams) and returns the demuxer to force; null for another scheme, an answer not recognised or a
 * camera that cannot be reached (ffmpeg then reports the camera's own error); "silent" when it sent
 * nothing (no byte, no HTTP answer) within `waitMs`. A camera silent at first (a Pi's `rpicam-vid
 * --listen`, an IP camera waking up) is waited for: ffmpeg's own probe would pick a demuxer that
 * stamps frames on a 1/25 s clock.
 */
export function detectStreamFormat(url: string, times: LookTimes, clock: Clock): Promise<LookResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(null);
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return fromHttp(parsed, times, clock);
  if (parsed.protocol === "tcp:") return fromTcp(parsed, times, clock);
  if (parsed.protocol === "udp:") return fromUdp(parsed, times, clock);
  return Promise.resolve(null);
}

/**
 * Reads bytes until lookFromBytes can tell, the source ends or the time is up: `waitMs` for the first
 * bytes ("silent" without any), then `lookMs` more. `started`: the answer began before (HTTP headers).
 */
function reader(
  times: LookTimes,
  timers: Timers,
  resolve: (look: LookResult) => void,
  close: () => void,
  started = false,
): {
  push: (chunk: Buffer) => void;
  end: () => void;
  fail: () => void;
  started: () => void;
  settle: (look: LookResult) => void;
} {
  let head = Buffer.alloc(0);
  let settled = false;
  let any = started;
  const done = (look: LookResult): void => {
    if (settled) return;
    settled = true;
    timers.clearTimeout(timer);
    timers.clearTimeout(waiting);
    close();
    resolve(look);
  };
  const end = (): void => {
    if (!any) return done("silent");
    const look = lookFromBytes(head, true);
    done(look === "more" ? null : look);
  };
  let timer = timers.setTimeout(end, started ? times.lookMs : times.waitMs);
  const waiting = times.onWaiting
    ? timers.setTimeout(() => {
        if (!any) times.onWaiting!();
      }, times.afterMs ?? 500)
    : null;
  return {
    push: (chunk) => {
      if (!any) {
        any = true;
        timers.clearTimeout(timer);
        timer = timers.setTimeout(end, times.lookMs);
      }
      head = Buffer.concat([head, chunk]);
      const look = lookFromBytes(head, false);
      if (look !== "more") done(look);
    },
    end: () => {
      // The source closed: what was read decides; a camera that closed without a byte is not silent.
      any = true;
      end();
    },
    // Not reachable (refused, reset): ffmpeg will say why.
    fail: () => done(null),
    // The camera answered without a byte of stream yet (HTTP headers): not silent, read on.
    started: () => {
      if (any) return;
      any = true;
      timers.clearTimeout(timer);
      timer = timers.setTimeout(end, times.lookMs);
    },
    settle: (look: LookResult) => done(look),
  };
}

function fromHttp(url: URL, times: LookTimes, timers: Timers): Promise<LookResult> {
  return new Promise((resolve) => {
    const get = url.protocol === "https:" ? https.get : http.get;
    // Until the camera answers, the reader waits for "bytes": the answer's headers.
    const answer = reader(times, timers, resolve, () => req.destroy());
    const req = get(url, { rejectUnauthorized: false }, (res) => {
      const format = res.statusCode === 200 ? formatFromContentType(res.headers["content-type"]) : null;
      if (format !== "mpegts" && (format || res.statusCode !== 200)) {
        answer.settle(format ? { format, lateHandover: false } : null);
        return;
      }
      // MPEG-TS (read on to the first video PES, to learn whether it has a length), or a Content-Type
      // that names no stream format (its first bytes may: waited for, as for TCP).
      answer.started();
      res.on("data", (chunk: Buffer) => answer.push(chunk));
      res.on("end", answer.end);
      res.on("error", answer.end);
    });
    req.on("error", answer.fail);
    req.on("close", answer.end);
  });
}

function fromTcp(url: URL, times: LookTimes, timers: Timers): Promise<LookResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const r = reader(times, timers, resolve, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => r.push(chunk));
    // Refused or reset: not reachable (ffmpeg says why), not silent.
    socket.on("error", r.fail);
    socket.on("close", r.end);
  });
}

function fromUdp(url: URL, times: LookTimes, timers: Timers): Promise<LookResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    // Datagrams not recognised: udp:// URLs carry MPEG-TS (RTP needs an SDP file).
    const mpegts = (look: LookResult): void => resolve(look ?? { format: "mpegts", lateHandover: true });
    const r = reader(times, timers, mpegts, () => {
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
