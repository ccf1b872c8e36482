// The cameras of the exactness bench, one per kind labx records, each with its ground truth: when every
// frame left the camera (or, for RTSP, passed on the wire to ffmpeg). All are the tests' own cameras
// (test/helpers/), each its own process so the bench's event loop cannot disturb their timing.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { freePort, sleep } from "./util.js";

export type KindName =
  | "synthetic"
  | "tcp-mjpeg"
  | "http-mjpeg"
  | "tcp-mjpeg-slow"
  | "http-mjpeg-slow"
  | "rtsp-h264"
  | "rtsp-mjpeg"
  | "udp-mpegts";

export interface TruthFrame {
  /** The camera's frame number, where the recorded frame carries it (the fake MJPEG camera's tags). */
  id: number | null;
  /** When it was sent (µs since the epoch): what its recorded time should be. */
  us: number;
}

export interface BenchCamera {
  kind: KindName;
  /** What the row of the table says the camera is. */
  describe: string;
  /** `--camera` for the node. */
  camera: string;
  /** Whether a batch can only open at a keyframe (H.264 stream copy). */
  keyframesOnly: boolean;
  /** Whether recorded frames carry their number (matched by number; else by nearest time). */
  tagged: boolean;
  truth(): TruthFrame[];
  stop(): Promise<void>;
}

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.on("exit", r));

function lines(file: string): number[][] {
  try {
    return readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l)
      .map((l) => l.split(",").map(Number));
  } catch {
    return [];
  }
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map(exited));
}

export async function startCamera(
  kind: KindName,
  root: string,
  work: string,
  seconds: number,
  /** The fake MJPEG camera's frame size (tcp-mjpeg, http-mjpeg). */
  size = "320x240",
): Promise<BenchCamera> {
  const tsx = (script: string, args: string[]): ChildProcess =>
    spawn(process.execPath, ["--import", "tsx", path.join(root, "test/helpers", script), ...args], {
      cwd: root,
      stdio: "ignore",
    });
  const log = path.join(work, `${kind}-sent.csv`);
  switch (kind) {
    case "synthetic":
      return {
        kind,
        describe: "synthetic (lavfi, 640×480, re-encoded to MJPEG)",
        camera: "synthetic",
        keyframesOnly: false,
        tagged: false,
        truth: () => [],
        stop: async () => {},
      };
    case "tcp-mjpeg":
    case "http-mjpeg":
    case "tcp-mjpeg-slow":
    case "http-mjpeg-slow": {
      const port = await freePort();
      const protocol = kind.startsWith("tcp") ? "tcp" : "http";
      // Slow to start: silent for 3 s after every connection (rpicam-vid --listen, a waking IP camera).
      const silentMs = kind.endsWith("-slow") ? 3000 : 0;
      const child = tsx("fake-camera.ts", [String(port), log, "30", "", protocol, size, String(silentMs)]);
      await sleep(1500);
      const slow = silentMs ? ", silent for 3 s after each connection" : "";
      return {
        kind,
        describe:
          protocol === "tcp"
            ? `raw MJPEG over TCP (format found by the node${slow})`
            : `HTTP multipart MJPEG (found${slow})`,
        camera: protocol === "tcp" ? `tcp://127.0.0.1:${port}` : `http://127.0.0.1:${port}/cam`,
        keyframesOnly: false,
        tagged: true,
        truth: () => lines(log).map(([id, us]) => ({ id: id!, us: us! })),
        stop: () => stopAll([child]),
      };
    }
    case "rtsp-h264":
    case "rtsp-mjpeg": {
      const [port, tapPort] = [await freePort(), await freePort()];
      const codec = kind === "rtsp-h264" ? "h264" : "mjpeg";
      const server = spawn(
        "/usr/bin/python3",
        [
          path.join(root, "test/helpers/rtsp-server.py"),
          String(port),
          codec,
          path.join(work, `${kind}-gst.csv`),
        ],
        { stdio: "ignore" },
      );
      const tap = tsx("rtsp-wire-tap.ts", [String(tapPort), String(port), log]);
      await sleep(2500);
      return {
        kind,
        describe: `RTSP ${codec === "h264" ? "H.264 (copied; keyframe every 0.5 s)" : "MJPEG"} over TCP (GStreamer)`,
        camera: `rtsp://127.0.0.1:${tapPort}/cam`,
        keyframesOnly: codec === "h264",
        tagged: false,
        // H.264 frames are stamped at their first packet, MJPEG at their last (docs/time.md).
        truth: () =>
          lines(log).map(([, first, last]) => ({ id: null, us: codec === "h264" ? first! : last! })),
        stop: () => stopAll([tap, server]),
      };
    }
    case "udp-mpegts": {
      const port = await freePort();
      const ts = path.join(work, "udp-cam.ts");
      execFileSync("ffmpeg", [
        ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30"],
        ...["-frames:v", String((seconds + 60) * 30), "-c:v", "libx264", "-preset", "ultrafast"],
        ...["-tune", "zerolatency", "-g", "15", "-f", "mpegts", ts],
      ]);
      const child = tsx("udp-camera.ts", [String(port), "30", ts, log]);
      await sleep(1500);
      return {
        kind,
        describe: "UDP MPEG-TS H.264 (copied; keyframe every 0.5 s)",
        camera: `udp://127.0.0.1:${port}`,
        keyframesOnly: true,
        tagged: false,
        truth: () => lines(log).map(([, us]) => ({ id: null, us: us! })),
        stop: () => stopAll([child]),
      };
    }
  }
}
