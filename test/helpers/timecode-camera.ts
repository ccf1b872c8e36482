// A ground-truth camera for `labx verify`: frame n is "exposed" at c(n) = t0 + n/fps and shows the time
// code of that instant (a QR of `labx-tc:<c(n) µs>`, as a screen running /timecode would); it is
// delivered, as raw MJPEG over TCP, after a known latency plus jitter: at c(n) + latency + j(n), with j
// uniform in ±jitter (a fixed pseudo-random sequence, never reordering frames). It logs
// "n,capture_us,sent_us" for every frame sent, and tags each JPEG with "labx-frame:<n>" (a COM segment).
// Its own process, so the test's event loop cannot disturb its timing:
//   node --import tsx test/helpers/timecode-camera.ts PORT FPS LATENCY_MS JITTER_MS LOGFILE
import { spawn } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import qrcode from "qrcode-generator";
import { formatTimecode } from "../../contract/timecode.js";
import { cameraServer, nowUs, paceAt, tagFrame } from "./fake-camera.js";

const W = 640;
const H = 480;
const SCALE = 10;

/** An 8-bit gray image of the time code for `us`, centred, with its quiet zone. */
export function timecodeImage(us: number, width = W, height = H, scale = SCALE): Buffer {
  const qr = qrcode(2, "M");
  qr.addData(formatTimecode(us));
  qr.make();
  const n = qr.getModuleCount();
  const img = Buffer.alloc(width * height, 255);
  const ox = Math.floor((width - n * scale) / 2);
  const oy = Math.floor((height - n * scale) / 2);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      if (qr.isDark(r, c))
        for (let y = 0; y < scale; y++)
          img.fill(
            0,
            (oy + r * scale + y) * width + ox + c * scale,
            (oy + r * scale + y) * width + ox + (c + 1) * scale,
          );
  return img;
}

/** A fixed sequence in [-1, 1) (xorshift32): the same jitter on every run. */
export function jitterSequence(seed: number): (n: number) => number {
  const values: number[] = [];
  let x = seed >>> 0 || 1;
  return (n) => {
    while (values.length <= n) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      values.push((x / 0x1_0000_0000) * 2 - 1);
    }
    return values[n]!;
  };
}

/** JPEGs from a running ffmpeg that encodes gray frames written to it, in order. */
function jpegEncoder(fps: number, onJpeg: (jpeg: Buffer) => void): (gray: Buffer) => void {
  const ff = spawn(
    "ffmpeg",
    [
      "-v",
      "error",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "gray",
      "-s",
      `${W}x${H}`,
      "-r",
      String(fps),
      "-i",
      "-",
    ].concat(["-c:v", "mjpeg", "-q:v", "4", "-f", "image2pipe", "-"]),
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let pending = Buffer.alloc(0);
  ff.stdout.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf(Buffer.from([0xff, 0xd9]));
      if (end < 0) break;
      onJpeg(pending.subarray(0, end + 2));
      pending = pending.subarray(end + 2);
    }
  });
  process.on("exit", () => ff.kill("SIGKILL"));
  return (gray) => void ff.stdin.write(gray);
}

function main(): void {
  const log = process.argv[3]!;
  const [port, fps, latencyMs, jitterMs] = [2, 4, 5, 6].map((i) => Number(process.argv[i])) as [
    number,
    number,
    number,
    number,
  ];
  writeFileSync(log, "");
  const t0 = nowUs() + 1_500_000;
  const capture = (n: number): number => t0 + Math.round((n * 1e6) / fps);
  const jitter = jitterSequence(port);
  const sentAt: number[] = [];
  // Due times never decrease: a frame leaves at least 1 ms after the one before.
  const due = (n: number): number => {
    while (sentAt.length <= n) {
      const k = sentAt.length;
      const t = capture(k) + Math.round(latencyMs * 1000 + jitter(k) * jitterMs * 1000);
      sentAt.push(k === 0 ? t : Math.max(t, sentAt[k - 1]! + 1000));
    }
    return sentAt[n]!;
  };
  // Frames are encoded ahead of their time: frame n's image is known as soon as t0 is.
  const ready: Buffer[] = [];
  let encoded = 0;
  const encode = jpegEncoder(fps, (jpeg) => ready.push(tagFrame(jpeg, ready.length)));
  const encodeAhead = (upTo: number): void => {
    while (encoded <= upTo) encode(timecodeImage(capture(encoded++)));
  };
  encodeAhead(30);
  const send = (n: number): void => {
    const jpeg = ready[n];
    const client = server.client;
    if (client && jpeg) {
      const sent = nowUs();
      client.write(jpeg);
      appendFileSync(log, `${n},${capture(n)},${sent}\n`);
    }
    if (n > 0) ready[n - 1] = Buffer.alloc(0); // sent or missed: no longer needed
    encodeAhead(n + 30); // after the send, never delaying it
  };
  const server = cameraServer(port, false, () => paceAt(due, send));
  process.on("SIGTERM", () => process.exit(0));
}

if (process.argv[1]?.endsWith("timecode-camera.ts")) main();
