// Pure: what `v4l2-ctl --list-devices` and `v4l2-ctl -d DEV --list-formats-ext` print, read into
// data, and the capture a node would choose from it. Both of v4l2-ctl's layouts are read: the older
// "Index : 0 / Pixel Format: 'MJPG'" and the newer "[0]: 'MJPG' (Motion-JPEG, compressed)".

export interface V4l2Device {
  /** The card name, e.g. "HD USB Camera" or "unicam". */
  name: string;
  /** The bus, e.g. "usb-0000:01:00.0-1.1" or "platform:fe801000.csi". */
  bus: string;
  /** Its /dev/videoN nodes, in the order listed (the first is the capture node of a UVC camera). */
  videoNodes: string[];
}

export interface V4l2Size {
  width: number;
  height: number;
  /** Discrete frame rates; empty for a stepwise size (any rate the driver accepts). */
  fps: number[];
  stepwise?: boolean;
}

export interface V4l2Format {
  /** The pixel format's fourcc: MJPG, YUYV, H264, … */
  fourcc: string;
  description: string;
  sizes: V4l2Size[];
}

export function parseListDevices(text: string): V4l2Device[] {
  const devices: V4l2Device[] = [];
  let current: V4l2Device | null = null;
  for (const line of text.split("\n")) {
    const header = /^(\S.*?)\s*\(([^()]*)\):\s*$/.exec(line);
    if (header) {
      current = { name: header[1]!, bus: header[2]!, videoNodes: [] };
      devices.push(current);
      continue;
    }
    const node = /^\s+(\/dev\/video\d+)\s*$/.exec(line);
    if (node && current) current.videoNodes.push(node[1]!);
  }
  return devices;
}

export function parseFormats(text: string): V4l2Format[] {
  const formats: V4l2Format[] = [];
  let format: V4l2Format | null = null;
  let size: V4l2Size | null = null;
  for (const line of text.split("\n")) {
    // Newer layout: "[0]: 'MJPG' (Motion-JPEG, compressed)"; older: "Pixel Format: 'MJPG' (compressed)".
    const newer = /^\s*\[\d+\]:\s*'(\w{1,4}\s*)'\s*\((.*)\)\s*$/.exec(line);
    const older = /^\s*Pixel Format\s*:\s*'(\w{1,4}\s*)'/.exec(line);
    if (newer || older) {
      format = { fourcc: (newer ?? older)![1]!.trim(), description: newer?.[2] ?? "", sizes: [] };
      formats.push(format);
      size = null;
      continue;
    }
    const name = /^\s*Name\s*:\s*(.+)$/.exec(line);
    if (name && format && !format.description) {
      format.description = name[1]!.trim();
      continue;
    }
    const discrete = /^\s*Size:\s*Discrete\s+(\d+)x(\d+)/.exec(line);
    const stepwise = /^\s*Size:\s*(?:Stepwise|Continuous)\s+\d+x\d+\s*-\s*(\d+)x(\d+)/.exec(line);
    if (format && (discrete || stepwise)) {
      const m = (discrete ?? stepwise)!;
      const dims = { width: Number(m[1]), height: Number(m[2]) };
      // v4l2-ctl repeats some sizes: one entry per size, their rates merged.
      const seen = discrete
        ? format.sizes.find((s) => s.width === dims.width && s.height === dims.height)
        : undefined;
      size = seen ?? { ...dims, fps: [], ...(stepwise ? { stepwise: true } : {}) };
      if (!seen) format.sizes.push(size);
      continue;
    }
    const interval = /Interval:\s*Discrete\s+[\d.]+s\s*\(([\d.]+)\s*fps\)/.exec(line);
    if (interval && size && !size.fps.includes(Number(interval[1]))) size.fps.push(Number(interval[1]));
  }
  return formats;
}

/** The V4L2 input formats the node records (config input_format), by fourcc. */
const INPUT_FORMATS: Readonly<Record<string, "mjpeg" | "h264" | "yuyv422">> = {
  MJPG: "mjpeg",
  JPEG: "mjpeg",
  H264: "h264",
  YUYV: "yuyv422",
};
/** MJPEG first: every frame a keyframe, copied as is, small; then H.264 (copied), then raw YUYV. */
const PREFERENCE = ["mjpeg", "h264", "yuyv422"] as const;

export interface CaptureChoice {
  inputFormat: "mjpeg" | "h264" | "yuyv422";
  videoSize: string;
  framerate: number;
}

/**
 * The capture a node would set up on this device: the preferred format it supports, at the wanted
 * size and rate when the device offers them, else that format's largest size at its highest rate
 * up to the wanted one. Null when it offers nothing the node records.
 */
export function chooseCapture(
  formats: readonly V4l2Format[],
  want: { videoSize: string; framerate: number },
): CaptureChoice | null {
  const [w, h] = want.videoSize.split("x").map(Number) as [number, number];
  for (const inputFormat of PREFERENCE) {
    const format = formats.find((f) => INPUT_FORMATS[f.fourcc] === inputFormat && f.sizes.length > 0);
    if (!format) continue;
    const exact = format.sizes.find(
      (s) => (s.width === w && s.height === h) || (s.stepwise && w <= s.width && h <= s.height),
    );
    const size = exact ?? [...format.sizes].sort((a, b) => b.width * b.height - a.width * a.height)[0]!;
    const rates = size.fps.filter((f) => f <= want.framerate).sort((a, b) => b - a);
    const framerate =
      size.stepwise || size.fps.includes(want.framerate) ? want.framerate : (rates[0] ?? size.fps[0]!);
    const videoSize = exact ? want.videoSize : `${size.width}x${size.height}`;
    return { inputFormat, videoSize, framerate };
  }
  return null;
}
