// A fake IP camera with ground truth: serves MJPEG, raw over TCP or as HTTP multipart
// (multipart/x-mixed-replace, what mjpg-streamer, Motion and ESP32-CAM serve), frame n due at
// t0 + n/fps, each JPEG carrying "labx-frame:<n>" in a COM segment (decoders ignore it; stream copy
// keeps it), and logs "n,send_epoch_us" for every frame. Run as its own process so the test's event
// loop cannot disturb its timing:
//   node --import tsx test/helpers/fake-camera.ts PORT LOGFILE FPS [STALL] [tcp|http] [WxH] [SILENT_MS] [DROP]
import { execFileSync } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

/** Wall-clock µs: realtime at process start (µs) plus monotonic elapsed time. */
export const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * A camera's frame clock: frame n is due at t0 + n/fps and `send(n)` runs then, to within a few µs
 * (a timer to ~1.5 ms before, then a spin). Runs for the process's life.
 */
export function pace(fps: number, t0: number, send: (n: number) => void): void {
  paceAt((n) => t0 + Math.round((n * 1e6) / fps), send);
}

/** `send(n)` at wall-clock µs `due(n)`, in order (due must not decrease), to within a few µs. */
export function paceAt(due: (n: number) => number, send: (n: number) => void): void {
  let n = 0;
  const tick = (): void => {
    const target = due(n);
    const wait = target - nowUs();
    if (wait > 2000) {
      setTimeout(tick, (wait - 1500) / 1000);
      return;
    }
    while (nowUs() < target) {
      // spin the last ~1.5 ms for an exact send time
    }
    send(n++);
    setImmediate(tick);
  };
  tick();
}

export function tagFrame(jpeg: Buffer, n: number): Buffer {
  const text = Buffer.from(`labx-frame:${n}`);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), com, text, jpeg.subarray(2)]);
}

/** Frame numbers in order of appearance in a byte stream of tagged JPEGs. */
export function frameNumbers(bytes: Buffer): number[] {
  return [...bytes.toString("latin1").matchAll(/labx-frame:(\d+)/g)].map((m) => Number(m[1]));
}

function baseFrames(count: number, size = "320x240"): Buffer[] {
  const all = execFileSync(
    "ffmpeg",
    [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${size}:rate=30`,
      "-frames:v",
      String(count),
      "-c:v",
      "mjpeg",
      "-f",
      "image2pipe",
      "-",
    ],
    { maxBuffer: 256 << 20 },
  );
  const frames: Buffer[] = [];
  let start = 0;
  for (let i = 2; i < all.length - 1; i++) {
    if (all[i] === 0xff && all[i + 1] === 0xd8 && all[i - 2] === 0xff && all[i - 1] === 0xd9) {
      frames.push(all.subarray(start, i));
      start = i;
    }
  }
  frames.push(all.subarray(start));
  return frames;
}

/**
 * A camera's server on 127.0.0.1:port: one client at a time (a new connection replaces the old, as a
 * restarted ffmpeg reconnects), taken at once, or for HTTP once its request's headers are in (then
 * answered as a multipart MJPEG stream). `onListening` starts the frame clock.
 */
export function cameraServer(
  port: number,
  http: boolean,
  onListening: () => void,
  silentMs = 0,
): { readonly client: Socket | null; drop(downMs: number): void } {
  let client: Socket | null = null;
  let downUntil = 0;
  const server = createServer((socket) => {
    // Down (a camera rebooting, a link lost): every connection is closed at once.
    if (Date.now() < downUntil) return void socket.destroy();
    socket.setNoDelay(true);
    const gone = (): void => {
      if (client === socket) client = null;
    };
    socket.on("close", gone);
    socket.on("error", gone);
    // A camera slow to start (rpicam-vid --listen, a waking IP camera) sends nothing for silentMs
    // after each connection: the frames due meanwhile go to no one and are not in the log.
    const take = (): void => {
      const now = (): void => {
        if (socket.destroyed) return;
        client?.destroy();
        client = socket;
      };
      if (silentMs > 0) setTimeout(now, silentMs);
      else now();
    };
    if (!http) return take();
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.write(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=labxframe\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
      );
      take();
    };
    socket.on("data", onData);
  });
  server.listen(port, "127.0.0.1", () => {
    process.stdout.write("listening\n");
    onListening();
  });
  return {
    get client() {
      return client;
    },
    /** The camera drops its client and takes none for downMs (then comes back on the same frame clock). */
    drop: (downMs) => {
      downUntil = Date.now() + downMs;
      client?.destroy();
      client = null;
    },
  };
}

async function main(): Promise<void> {
  const [port, log, fps] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4])];
  // Optional "<frame>:<ms>": from that frame on, hold the frames due for ms, then send them in one
  // write (a camera or network that stalls and catches up); each is logged with that one send time.
  const [stallAt, stallMs] = (process.argv[5] || "-1:0").split(":").map(Number) as [number, number];
  const http = process.argv[6] === "http";
  // Optional frame size (WxH), 320x240 by default.
  const size = process.argv[7] || "320x240";
  // Optional: ms of silence after each connection (for HTTP: after the response's headers).
  const silentMs = Number(process.argv[8] || 0);
  // Optional "<frame>:<ms>": at that frame the camera drops its client and is down for ms.
  const [dropAt, downMs] = (process.argv[9] || "-1:0").split(":").map(Number) as [number, number];
  // HTTP multipart: each JPEG is a part with its own headers, as real cameras send them.
  const part = (jpeg: Buffer): Buffer =>
    http
      ? Buffer.concat([
          Buffer.from(`--labxframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
          jpeg,
          Buffer.from("\r\n"),
        ])
      : jpeg;
  const held: Buffer[] = [];
  const heldNumbers: number[] = [];
  const frames = baseFrames(30, size);
  writeFileSync(log, "");
  // One frame clock for the camera's life, whoever is connected: frame n is due at t0 + n/fps and
  // goes to the current client, if any. A client that reconnects (a restarted ffmpeg) misses the
  // frames due meanwhile; they are absent from the log, so the log's holes are the ground truth of a gap.
  const t0 = nowUs() + 200_000;
  const send = (n: number): void => {
    if (n === dropAt) server.drop(downMs);
    const client = server.client;
    if (client) {
      const frame = part(tagFrame(frames[n % frames.length]!, n));
      if (stallAt >= 0 && n >= stallAt && nowUs() < t0 + (stallAt * 1e6) / fps + stallMs * 1000) {
        held.push(frame);
        heldNumbers.push(n);
      } else {
        const sent = nowUs();
        client.write(Buffer.concat([...held, frame]));
        appendFileSync(log, [...heldNumbers, n].map((k) => `${k},${sent}\n`).join(""));
        held.length = 0;
        heldNumbers.length = 0;
      }
    }
  };
  const server = cameraServer(port, http, () => pace(fps, t0, send), silentMs);
  process.on("SIGTERM", () => process.exit(0));
}

if (process.argv[1]?.endsWith("fake-camera.ts")) void main();
