import convict from "convict";
import { mqttSchema } from "./config-schema-mqtt.js";
import { uploadSchema } from "./config-schema-upload.js";
import { uiSchema } from "./config-schema-ui.js";
import { assertName as name } from "../../contract/names.js";
import { parseBrokerList } from "../mqtt/broker-list.js";

// The convict schema of every option (flag, LABX_* variable, config-file key) and its formats.
// Loading, precedence and freezing are in config.ts.

const toNumber = (v: unknown): unknown =>
  typeof v === "string" && v.trim() !== "" && !isNaN(Number(v)) ? Number(v) : v;
const toNullable = (v: unknown): unknown => (v === "" || v === "null" ? null : toNumber(v));

// Registering is idempotent: convict keeps one table of formats by name.
convict.addFormats({
  seconds: {
    validate: (v: unknown) => {
      if (typeof v !== "number" || !(v >= 1 && v <= 3600))
        throw new Error("must be a number of seconds from 1 to 3600");
    },
    coerce: toNumber,
  },
  "optional-seconds": {
    validate: (v: unknown) => {
      if (v !== null && (typeof v !== "number" || !(v > 0)))
        throw new Error("must be a positive number of seconds");
    },
    coerce: toNullable,
  },
  fps: {
    validate: (v: unknown) => {
      if (typeof v !== "number" || !(v > 0 && v <= 240)) throw new Error("must be a number from 1 to 240");
    },
    coerce: toNumber,
  },
  "positive-number": {
    validate: (v: unknown) => {
      if (typeof v !== "number" || !(v > 0)) throw new Error("must be a positive number");
    },
    coerce: toNumber,
  },
  "optional-port": {
    validate: (v: unknown) => {
      if (v !== null && (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535))
        throw new Error("must be a port number (0: any free port)");
    },
    coerce: toNullable,
  },
  "optional-latency": {
    validate: (v: unknown) => {
      if (v !== null && (typeof v !== "number" || !(v >= 0 && v <= 5000)))
        throw new Error("must be a number of ms from 0 to 5000");
    },
    coerce: toNullable,
  },
  "argument-array": {
    validate: (v: unknown) => {
      if (!Array.isArray(v) || !v.every((a) => typeof a === "string" && a !== "" && !a.includes("\0")))
        throw new Error('must be a JSON array of non-empty strings, e.g. ["python3","imu.py"]');
    },
    coerce: (v: unknown) => {
      if (typeof v !== "string") return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    },
  },
  "broker-urls": {
    validate: (v: unknown) => {
      if (typeof v !== "string") throw new Error("must be one or more broker URLs, comma-separated");
      parseBrokerList(v);
    },
  },
  "optional-name": {
    validate: (v: unknown) => v === null || name(v),
    coerce: (v: unknown) => (v === "" ? null : v),
  },
});

/** "a,b" → ["a", "b"]; "" → []. */
export function splitList(v: string): string[] {
  return v === "" ? [] : v.split(",").map((s) => s.trim());
}

export const schema = {
  sbc_id: {
    doc: "This node's id (topics, file names).",
    format: name,
    default: "SBC001",
    arg: "sbc-id",
    env: "LABX_SBC_ID",
  },
  groups: {
    doc: "Groups this node also answers to, comma-separated.",
    format: (v: unknown) => {
      if (Array.isArray(v)) return v.forEach(name);
      if (typeof v !== "string") throw new Error("must be a comma-separated list of names");
      splitList(v).forEach(name);
    },
    default: "" as string | string[],
    arg: "groups",
    env: "LABX_GROUPS",
  },
  data_dir: {
    doc: "Where sessions are written.",
    format: String,
    default: "./data",
    arg: "data-dir",
    env: "LABX_DATA_DIR",
  },
  batch_duration: {
    doc: "Default seconds per batch.",
    format: "seconds",
    default: 10,
    arg: "batch-duration",
    env: "LABX_BATCH_DURATION",
  },
  duration: {
    doc: "Start recording at launch for this many seconds, then exit (like the old collector).",
    format: "optional-seconds",
    default: null as number | null,
    arg: "duration",
    env: "LABX_DURATION",
  },
  session: {
    doc: "Session name for --duration recordings (generated when absent).",
    format: "optional-name",
    default: null as string | null,
    arg: "session",
    env: "LABX_SESSION",
  },
  source: {
    doc: "What the node records: 'camera' (--camera, through ffmpeg) or 'command' (a sensor program, --source-command; docs/sensors.md).",
    format: ["camera", "command"],
    default: "camera",
    arg: "source",
    env: "LABX_SOURCE",
  },
  source_command: {
    doc: 'The sensor program of --source command, as a JSON array of its arguments (never a shell line), e.g. ["python3","/opt/imu.py","--rate","100"]. It is run for each session, from the session folder; docs/sensors.md.',
    format: "argument-array",
    default: [] as string[],
    arg: "source-command",
    env: "LABX_SOURCE_COMMAND",
  },
  camera: {
    doc: "A V4L2 device (/dev/video0), 'auto' (the first V4L2 camera, as labx cameras lists it, else synthetic), 'synthetic', or a stream URL (rtsp, http, udp, tcp).",
    format: (v: unknown) => {
      if (
        typeof v !== "string" ||
        !/^(auto|synthetic|\/dev\/\S+|(rtsp|rtsps|http|https|udp|tcp|srt):\/\/\S+)$/.test(v)
      )
        throw new Error("must be /dev/videoN, auto, synthetic, or an rtsp/http/udp/tcp URL");
    },
    default: "synthetic",
    arg: "camera",
    env: "LABX_CAMERA",
  },
  video_size: {
    doc: "Frame size WxH (synthetic camera and V4L2).",
    format: (v: unknown) => {
      if (typeof v !== "string" || !/^\d{2,5}x\d{2,5}$/.test(v))
        throw new Error("must be WIDTHxHEIGHT, e.g. 640x480");
    },
    default: "640x480",
    arg: "video-size",
    env: "LABX_VIDEO_SIZE",
  },
  framerate: {
    doc: "Frames per second (synthetic camera and V4L2).",
    format: "fps",
    default: 30,
    arg: "framerate",
    env: "LABX_FRAMERATE",
  },
  input_format: {
    doc: "V4L2 pixel format asked of the camera; mjpeg is stored without re-encoding.",
    format: ["mjpeg", "h264", "yuyv422"],
    default: "mjpeg",
    arg: "input-format",
    env: "LABX_INPUT_FORMAT",
  },
  stream_format: {
    doc: "Demuxer for a stream URL (ffmpeg -f), e.g. mjpeg. Empty: the node finds it (an HTTP camera's Content-Type, a TCP camera's first bytes) so MJPEG keeps µs-fine arrival times; set it for a camera that serves a single connection.",
    format: (v: unknown) => {
      if (typeof v !== "string" || !/^[a-z0-9_]{0,32}$/.test(v))
        throw new Error("must be an ffmpeg format name such as mjpeg");
    },
    default: "",
    arg: "stream-format",
    env: "LABX_STREAM_FORMAT",
  },
  camera_wait: {
    doc: "Seconds a network camera (tcp://, http://, udp://) may stay silent after labx connects before a start is refused with INEXACT_TIMES: labx learns its format from its first bytes, so that its frames keep exact arrival times; the wait is in the state (camera_wait_until).",
    format: "nat",
    default: 10,
    arg: "camera-wait",
    env: "LABX_CAMERA_WAIT",
  },
  codec: {
    doc: "auto: copy compressed input, MJPEG otherwise; or force copy, mjpeg or h264.",
    format: ["auto", "copy", "mjpeg", "h264"],
    default: "auto",
    arg: "codec",
    env: "LABX_CODEC",
  },
  latency_ms: {
    doc: "The camera's latency (ms), subtracted from every frame time a session publishes, the stamped time kept beside it (docs/time.md). Not given: the value labx verify --save sent, if any.",
    format: "optional-latency",
    default: null as number | null,
    arg: "latency-ms",
    env: "LABX_LATENCY_MS",
  },
  ...mqttSchema,
  ...uploadSchema,
  ...uiSchema,
  monitor: {
    doc: "With `labx broker`: also run the fleet clock monitor (labx/fleet/clock).",
    format: Boolean,
    default: false,
    arg: "monitor",
    env: "LABX_MONITOR",
  },
  disable_sync: {
    doc: "Do not read or publish chrony status.",
    format: Boolean,
    default: false,
    arg: "disable-sync",
    env: "LABX_DISABLE_SYNC",
  },
  require_sync: {
    doc: "Refuse every start (CLOCK_UNSYNCED) while the clock is not synchronized; a start command's require_sync overrides it.",
    format: Boolean,
    default: false,
    arg: "require-sync",
    env: "LABX_REQUIRE_SYNC",
  },
  sync_interval: {
    doc: "Seconds between chrony readings published on labx/<id>/clock.",
    format: "seconds",
    default: 10,
    arg: "sync-interval",
    env: "LABX_SYNC_INTERVAL",
  },
  max_root_distance_ms: {
    doc: "The clock counts as synced only while chrony's root distance stays under this (ms).",
    format: "positive-number",
    default: 10,
    arg: "max-root-distance-ms",
    env: "LABX_MAX_ROOT_DISTANCE_MS",
  },
  chronyc_path: {
    doc: "The chronyc binary: used only when chrony_host is the path of chronyd's Unix socket.",
    format: String,
    default: "chronyc",
    arg: "chronyc-path",
    env: "LABX_CHRONYC_PATH",
  },
  chrony_host: {
    doc: "chronyd's command address, read over its UDP command protocol (127.0.0.1 when empty), or the path of its Unix socket, read through chronyc.",
    format: String,
    default: "",
    arg: "chrony-host",
    env: "LABX_CHRONY_HOST",
  },
  chrony_port: {
    doc: "chronyd's command port (chronyc -p); 323 when 0.",
    format: "port",
    default: 0,
    arg: "chrony-port",
    env: "LABX_CHRONY_PORT",
  },
  ffmpeg_path: {
    doc: "ffmpeg binary; when absent, the system's ffmpeg on PATH, then ffmpeg-static's as the fallback.",
    format: "*",
    default: null as string | null,
    arg: "ffmpeg-path",
    env: "LABX_FFMPEG_PATH",
  },
  child_env: {
    doc: "Environment variables ffmpeg and sensor programs get besides the basic ones (PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR, LD_LIBRARY_PATH, XDG_RUNTIME_DIR, PYTHON*), comma-separated names; the broker password and cloud keys reach a child only when named here.",
    format: (v: unknown) => {
      const names = Array.isArray(v) ? v : typeof v === "string" ? splitList(v) : null;
      if (!names || !names.every((n) => typeof n === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)))
        throw new Error("must be environment variable names, comma-separated");
    },
    default: "" as string | string[],
    arg: "child-env",
    env: "LABX_CHILD_ENV",
  },
  min_free_mb: {
    doc: "Refuse to start below this much free space (MiB) in the data directory.",
    format: "nat",
    default: 200,
    arg: "min-free-mb",
    env: "LABX_MIN_FREE_MB",
  },
  stop_free_mb: {
    doc: "While recording, end the session cleanly (a disk_low event, the manifest intact) when free space falls below this (MiB).",
    format: "nat",
    default: 100,
    arg: "stop-free-mb",
    env: "LABX_STOP_FREE_MB",
  },
  disk_check_interval: {
    doc: "Seconds between free-space checks while recording.",
    format: "positive-number",
    default: 2,
    arg: "disk-check-interval",
    env: "LABX_DISK_CHECK_INTERVAL",
  },
  retention_days: {
    doc: "Remove finished sessions older than this many days (0: keep everything). Never the current session, never one with undelivered batch announcements.",
    format: "nat",
    default: 0,
    arg: "retention-days",
    env: "LABX_RETENTION_DAYS",
  },
  max_usage_mb: {
    doc: "Remove the oldest finished sessions while the data directory's sessions hold more than this many MiB (0: no limit); same exceptions.",
    format: "nat",
    default: 0,
    arg: "max-usage",
    env: "LABX_MAX_USAGE",
  },
  start_timeout: {
    doc: "Seconds to wait for the camera's first frame before CAMERA_UNAVAILABLE.",
    format: "nat",
    default: 15,
    arg: "start-timeout",
    env: "LABX_START_TIMEOUT",
  },
  stop_timeout: {
    doc: "Seconds ffmpeg gets to finish after 'q' before it is signalled.",
    format: "nat",
    default: 10,
    arg: "stop-timeout",
    env: "LABX_STOP_TIMEOUT",
  },
  restart_attempts: {
    doc: "ffmpeg restarts allowed within a minute (camera unplugged, ffmpeg crash) before the session ends in error.",
    format: "nat",
    default: 5,
    arg: "restart-attempts",
    env: "LABX_RESTART_ATTEMPTS",
  },
  max_payload_bytes: {
    doc: "Command payloads larger than this are refused unread.",
    format: "nat",
    default: 65536,
    arg: "max-payload-bytes",
    env: "LABX_MAX_PAYLOAD_BYTES",
  },
  log_level: {
    doc: "pino log level.",
    format: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    default: "info",
    arg: "log-level",
    env: "LABX_LOG_LEVEL",
  },
};

export function configSchema(): Record<string, { doc: string; default: unknown; arg: string; env: string }> {
  return schema as never;
}
