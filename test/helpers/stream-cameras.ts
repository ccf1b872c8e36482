import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, tempDir } from "./node.js";
import { exitedEarly } from "./tools.js";
import { freePort, waitForListener } from "./ports.js";

// The tests' network cameras that need a real server or a sender of their own, each in its own
// process (their timing must not share the test's event loop), with their ground truth.

const rows = (file: string): number[][] =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l)
    .map((l) => l.split(",").map(Number));

export interface WireFrame {
  /** Its first picture packet (rtsp-wire-tap.ts carriesPicture). */
  first: number;
  /** Its last packet, with the marker bit. */
  last: number;
  /** Its first packet of any kind: a delimiter or SEI may come before the picture. */
  any: number;
}

/**
 * How far an H.264 frame's recorded time is from the frame on the wire: 0 between its first packet of
 * any kind and its first picture packet (ffmpeg stamps it at the first it takes: its delimiter, or its
 * first slice where the delimiter came long before), else the distance to that span.
 */
export function h264Offset(recordedUs: number, f: WireFrame): number {
  return recordedUs < f.any ? recordedUs - f.any : recordedUs > f.first ? recordedUs - f.first : 0;
}

export interface RtspCamera {
  url: string;
  /** Each frame's first and last RTP packet passed to ffmpeg, µs since the epoch, all connections. */
  wire(): WireFrame[];
  stop(): void;
}

/**
 * GStreamer's RTSP server (rtsp-server.py: a live 30 fps pattern, H.264 or MJPEG over RTP) behind the
 * wire tap (rtsp-wire-tap.ts), which logs when each frame's packets passed to ffmpeg. (The server's
 * own log, taken before its payloader, trails the wire by its pipeline latency, ~2 frames.)
 */
export async function startRtspCamera(
  codec: "h264" | "h264-gop3s" | "mjpeg",
  credentials?: string,
  /** A camera slow to start: no RTP for this long after its stream begins (rtsp-wire-tap.ts). */
  silentMs = 0,
): Promise<RtspCamera> {
  const [port, tapPort] = [await freePort(), await freePort()];
  const dir = tempDir();
  const wireLog = path.join(dir, "wire.csv");
  const server: ChildProcess = spawn(
    "/usr/bin/python3",
    [
      path.join(ROOT, "test/helpers/rtsp-server.py"),
      String(port),
      codec,
      path.join(dir, "sent.csv"),
      ...(credentials ? [credentials] : []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let said = "";
  server.stderr!.on("data", (d: Buffer) => (said += d.toString()));
  // Without GStreamer's RTSP server for Python the script fails at its imports: said at once.
  const serverDied = exitedEarly(
    server,
    "the RTSP camera (test/helpers/rtsp-server.py; apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)",
    () => said,
  );
  const tap: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "test/helpers/rtsp-wire-tap.ts"),
      String(tapPort),
      String(port),
      wireLog,
      String(silentMs),
    ],
    { cwd: ROOT, stdio: "ignore" },
  );
  const stop = (signal: NodeJS.Signals): void => {
    server.kill(signal);
    tap.kill(signal);
  };
  try {
    await Promise.race([waitForListener(port, 20_000), serverDied]);
    await Promise.race([waitForListener(tapPort, 20_000), serverDied]);
  } catch (err) {
    stop("SIGKILL");
    throw err;
  }
  return {
    url: `rtsp://${credentials ? `${credentials}@` : ""}127.0.0.1:${tapPort}/cam`,
    wire: () => rows(wireLog).map(([, first, last, any]) => ({ first: first!, last: last!, any: any! })),
    stop: () => stop("SIGTERM"),
  };
}

export interface UdpCamera {
  url: string;
  /** When the camera sent frame n (all its transport packets at once), µs since the epoch. */
  sent(): number[];
  stop(): void;
}

/**
 * A UDP MPEG-TS camera (udp-camera.ts): `frames` of H.264 at 30 fps, a keyframe every `gop` frames, made
 * by ffmpeg with `muxerArgs`, each frame's transport packets sent at the camera's pace; with `silentMs`,
 * it begins that long after it starts (returned at once).
 */
export async function startUdpCamera(
  frames: number,
  muxerArgs: string[] = [],
  gop = 15,
  silentMs = 0,
): Promise<UdpCamera> {
  const dir = tempDir();
  const ts = path.join(dir, "cam.ts");
  execFileSync("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"],
    ...[
      "-frames:v",
      String(frames),
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      String(gop),
    ],
    ...muxerArgs,
    ...["-f", "mpegts", ts],
  ]);
  const port = await freePort();
  const log = path.join(dir, "sent.csv");
  const camera = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "test/helpers/udp-camera.ts"),
      String(port),
      "30",
      ts,
      log,
      String(silentMs),
    ],
    { cwd: ROOT, stdio: "ignore" },
  );
  const sent = (): number[] => {
    try {
      return rows(log).map(([, us]) => us!);
    } catch {
      return [];
    }
  };
  // Sending before the test goes on (unless it is to be silent first): a node that looks at a camera
  // silent for all of --camera-wait refuses it.
  const deadline = Date.now() + 20_000;
  while (sent().length === 0 && silentMs === 0) {
    if (Date.now() > deadline || camera.exitCode !== null) {
      camera.kill("SIGKILL");
      throw new Error("the UDP camera did not start sending");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `udp://127.0.0.1:${port}`, sent, stop: () => camera.kill("SIGTERM") };
}
