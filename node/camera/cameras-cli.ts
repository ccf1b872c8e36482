import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { loadOptions } from "../../platform/config/config.js";
import { schema } from "../../platform/config/config-schema.js";
import {
  chooseCapture,
  parseFormats,
  parseListDevices,
  type CaptureChoice,
  type V4l2Format,
} from "./v4l2-listing.js";

// `labx cameras`: every V4L2 camera on this machine, its formats, sizes and rates, and the capture a
// node would set up on it (MJPEG preferred, at --video-size and --framerate when offered).

/** Video nodes of these drivers are the Pi's codecs and ISP, not cameras. */
const NOT_CAMERAS = /^(bcm2835-codec|bcm2835-isp|rpivid|rpi-hevc-dec)/;

const camerasSchema = {
  video_size: schema.video_size,
  framerate: schema.framerate,
  json: { doc: "One JSON document.", format: Boolean, default: false, arg: "json" },
};

export interface CameraListing {
  device: string;
  name: string;
  bus: string;
  formats: V4l2Format[];
  choice: CaptureChoice | null;
}

export type RunV4l2Ctl = (args: string[]) => Promise<string>;

const runV4l2Ctl: RunV4l2Ctl = async (args) =>
  (await promisify(execFile)("v4l2-ctl", args, { timeout: 5000 })).stdout;

/** Every capture node with a format, of every device that is not a codec or ISP. */
export async function listCameras(
  want: { videoSize: string; framerate: number },
  run: RunV4l2Ctl = runV4l2Ctl,
): Promise<CameraListing[]> {
  let devices;
  try {
    devices = parseListDevices(await run(["--list-devices"]));
  } catch {
    // v4l2-ctl exits 1 when no device exists at all; missing, it cannot list either.
    return [];
  }
  const cameras: CameraListing[] = [];
  for (const d of devices.filter((x) => !NOT_CAMERAS.test(x.name))) {
    for (const device of d.videoNodes) {
      const formats = parseFormats(await run(["-d", device, "--list-formats-ext"]).catch(() => ""));
      if (formats.length === 0) continue; // a UVC camera's metadata node
      cameras.push({ device, name: d.name, bus: d.bus, formats, choice: chooseCapture(formats, want) });
    }
  }
  return cameras;
}

/** Pure: the listing as text. */
export function renderCameras(cameras: readonly CameraListing[]): string {
  if (cameras.length === 0)
    return "no V4L2 camera found (v4l2-ctl --list-devices): a node records the synthetic camera\n";
  return cameras
    .map((c) => {
      const formats = c.formats.map((f) => {
        const sizes = f.sizes.map((s) =>
          s.stepwise ? `up to ${s.width}x${s.height}` : `${s.width}x${s.height}@${s.fps.join("/")}`,
        );
        return `  ${f.fourcc.padEnd(4)}  ${f.description}: ${sizes.join(", ")}`;
      });
      const choice = c.choice
        ? `  → labx node --camera ${c.device} --input-format ${c.choice.inputFormat} --video-size ${c.choice.videoSize} --framerate ${c.choice.framerate}`
        : "  → no format labx records (MJPEG, H.264, YUYV)";
      return [`${c.device}  ${c.name} (${c.bus})`, ...formats, choice].join("\n");
    })
    .join("\n\n")
    .concat("\n");
}

/** `labx cameras [--json] [--video-size WxH] [--framerate N]`: exit 0, with or without cameras. */
export async function runCameras(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  run?: RunV4l2Ctl,
): Promise<number> {
  const o = loadOptions<{ video_size: string; framerate: number; json: boolean }>(camerasSchema, argv, env);
  const cameras = await listCameras({ videoSize: o.video_size, framerate: o.framerate }, run);
  out.write(o.json ? JSON.stringify(cameras, null, 2) + "\n" : renderCameras(cameras));
  return 0;
}
