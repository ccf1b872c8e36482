// A fake UDP camera with ground truth: an MPEG-TS file (H.264, 30 fps, made by ffmpeg) sent as a camera
// sends it, frame n's transport packets at t0 + n/fps in datagrams of 7 packets, each frame's send time
// logged as "n,epoch_us". Run as its own process so the test's event loop cannot disturb its timing:
//   node --import tsx test/helpers/udp-camera.ts PORT FPS TSFILE LOGFILE [SILENT_MS]
// SILENT_MS: the camera starts sending that long after it starts (a camera slow to start).
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { nowUs, pace } from "./fake-camera.js";

const PACKET = 188;

/** The file's transport packets grouped per video frame: a frame begins where a video PES begins. */
export function framesOf(ts: Buffer, videoPid = 0x100): Buffer[][] {
  const frames: Buffer[][] = [];
  let pending: Buffer[] = [];
  for (let o = 0; o + PACKET <= ts.length; o += PACKET) {
    const p = ts.subarray(o, o + PACKET);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const start = (p[1]! & 0x40) !== 0;
    if (pid === videoPid && start && pending.some((q) => (((q[1]! & 0x1f) << 8) | q[2]!) === videoPid)) {
      frames.push(pending);
      pending = [];
    }
    pending.push(p);
  }
  if (pending.length) frames.push(pending);
  return frames;
}

function main(): void {
  const [port, fps, file, log] = [
    Number(process.argv[2]),
    Number(process.argv[3]),
    process.argv[4]!,
    process.argv[5]!,
  ];
  const silentMs = Number(process.argv[6] || 0);
  const frames = framesOf(readFileSync(file));
  const socket = createSocket("udp4");
  writeFileSync(log, "");
  process.stdout.write("sending\n");
  pace(fps, nowUs() + 300_000 + silentMs * 1000, (n) => {
    const packets = frames[n % frames.length]!;
    const sent = nowUs();
    for (let i = 0; i < packets.length; i += 7)
      socket.send(Buffer.concat(packets.slice(i, i + 7)), port, "127.0.0.1");
    appendFileSync(log, `${n},${sent}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

if (process.argv[1]?.endsWith("udp-camera.ts")) main();
