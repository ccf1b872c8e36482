import http from "node:http";
import https from "node:https";
import net from "node:net";
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

/**
 * Looks at what an http(s):// or tcp:// camera serves (its Content-Type, or its first bytes) and
 * returns the demuxer to force, or null: another scheme, an answer not recognised, no answer within
 * `timeoutMs` (ffmpeg then reports the camera's own error).
 */
export function detectStreamFormat(
  url: string,
  timeoutMs = 1000,
  timers: Timers = realTimers,
): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(null);
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return fromHttp(parsed, timeoutMs);
  if (parsed.protocol === "tcp:") return fromTcp(parsed, timeoutMs, timers);
  return Promise.resolve(null);
}

function fromHttp(url: URL, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const get = url.protocol === "https:" ? https.get : http.get;
    const req = get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      resolve(res.statusCode === 200 ? formatFromContentType(res.headers["content-type"]) : null);
      res.destroy();
      req.destroy();
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
    req.on("close", () => resolve(null));
  });
}

function fromTcp(url: URL, timeoutMs: number, timers: Timers): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let head = Buffer.alloc(0);
    const done = (format: string | null): void => {
      timers.clearTimeout(timer);
      socket.destroy();
      resolve(format);
    };
    const timer = timers.setTimeout(() => done(head.length > 0 ? formatFromBytes(head) : null), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 189) done(formatFromBytes(head));
    });
    socket.on("error", () => done(null));
    socket.on("close", () => done(head.length > 0 ? formatFromBytes(head) : null));
  });
}
