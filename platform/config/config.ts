import convict from "convict";
import { readFileSync } from "node:fs";
import { schema, splitList } from "./config-schema.js";
import { redactUrl } from "../secrets.js";

// The one place that reads process.env and argv: everything else receives the frozen Config.

export type Config = Readonly<{
  sbc_id: string;
  groups: readonly string[];
  data_dir: string;
  batch_duration: number;
  duration: number | null;
  session: string | null;
  source: "camera" | "command";
  source_command: readonly string[];
  camera: string;
  video_size: string;
  framerate: number;
  input_format: "mjpeg" | "h264" | "yuyv422";
  stream_format: string;
  camera_wait: number;
  codec: "auto" | "copy" | "mjpeg" | "h264";
  latency_ms: number | null;
  broker_url: string;
  base_topic: string;
  mqtt_keepalive: number;
  ha_discovery: boolean;
  ha_prefix: string;
  embedded_broker: boolean;
  broker_port: number;
  broker_host: string;
  auth_file: string;
  allow_anonymous: boolean;
  broker_max_connections: number;
  broker_max_packet_kb: number;
  broker_max_keepalive: number;
  tls_port: number;
  tls_cert: string;
  tls_key: string;
  ws_port: number;
  broker_username: string;
  broker_password: string;
  broker_ca: string;
  broker_cert: string;
  broker_key: string;
  monitor: boolean;
  disable_sync: boolean;
  require_sync: boolean;
  sync_interval: number;
  max_root_distance_ms: number;
  chronyc_path: string;
  chrony_host: string;
  chrony_port: number;
  ffmpeg_path: string | null;
  child_env: readonly string[];
  min_free_mb: number;
  start_timeout: number;
  stop_timeout: number;
  restart_attempts: number;
  stop_free_mb: number;
  disk_check_interval: number;
  retention_days: number;
  max_usage_mb: number;
  max_payload_bytes: number;
  upload_url: string;
  upload_endpoint: string;
  upload_region: string;
  upload_part_mb: number;
  preview_interval: number;
  preview_max_kb: number;
  preview_width: number;
  ui_port: number | null;
  ui_host: string;
  ui_allowed_hosts: string;
  ui_sync_threshold_ms: number;
  ui_tls_cert: string;
  ui_tls_key: string;
  log_level: string;
}>;

/** A configuration's faults; URL passwords in them (convict quotes the value) are replaced. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(redactUrl(message));
  }
}

// The old collector's spellings, kept so its users' habits still work.
const ALIASES: Record<string, string> = {
  "--sbc_id": "--sbc-id",
  "--batch_duration": "--batch-duration",
  "--data_directory": "--data-dir",
  "--data_directory_name": "--data-dir",
  "--disable_data_sync": "--disable-sync",
};

export interface LoadOptions {
  /** Other spellings of flags, mapped before parsing. */
  aliases?: Readonly<Record<string, string>>;
  /** Whether --config FILE / LABX_CONFIG (a JSON object of the schema's keys) is read. */
  configFile?: boolean;
}

type Schema = Record<string, { arg?: string }>;

/**
 * The one loader of every command's options: a convict schema's flags, LABX_* variables and (for the
 * node) a JSON config file, flags first. Throws ConfigError with one line per problem.
 */
export function loadOptions<T>(
  schema: Schema,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  o: LoadOptions = {},
): T {
  const known = new Set([...(o.configFile ? ["config"] : []), ...Object.values(schema).map((s) => s.arg)]);
  const args = argv.map((a) => {
    const [flag, ...rest] = a.split("=");
    const mapped = flag !== undefined ? o.aliases?.[flag] : undefined;
    return mapped ? [mapped, ...rest].join("=") : a;
  });
  const problems: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      if (i === 0 || !args[i - 1]!.startsWith("--") || args[i - 1]!.includes("="))
        problems.push(`unexpected argument "${a}"`);
      continue;
    }
    const flag = a.slice(2).split("=")[0]!.replace(/^no-/, "");
    if (!known.has(flag)) problems.push(`unknown option --${flag}`);
    if (flag === "config") configFile = a.includes("=") ? a.split("=").slice(1).join("=") : args[i + 1];
  }
  if (o.configFile) configFile ??= env.LABX_CONFIG;
  if (problems.length) throw new ConfigError(problems.join("; "));

  const conf = convict(schema as convict.Schema<T>, {
    args: args.filter((a) => a !== "--config" && !a.startsWith("--config=") && a !== configFile),
    env: env as NodeJS.ProcessEnv,
  });
  try {
    if (configFile) {
      const fileValues: unknown = JSON.parse(readFileSync(configFile, "utf8"));
      if (fileValues === null || typeof fileValues !== "object" || Array.isArray(fileValues))
        throw new Error("must hold a JSON object");
      conf.load(fileValues);
      // Flags and environment outrank the file.
      conf.load({});
    }
  } catch (err) {
    throw new ConfigError(`config file ${configFile}: ${(err as Error).message}`);
  }
  try {
    conf.validate({ allowed: "strict" });
  } catch (err) {
    throw new ConfigError((err as Error).message.split("\n").filter(Boolean).join("; "));
  }
  return conf.getProperties() as T;
}

/** The node's, broker's and monitor's configuration (argv without the subcommand, and env). */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const raw = loadOptions<Config & { groups: string | string[]; child_env: string | string[] }>(
    schema,
    argv,
    env,
    {
      aliases: ALIASES,
      configFile: true,
    },
  );
  const list = (v: string | readonly string[]): readonly string[] =>
    typeof v === "string" ? splitList(v) : v;
  const props: Config = {
    ...raw,
    groups: list(raw.groups),
    child_env: list(raw.child_env),
  };
  if (props.groups.includes(props.sbc_id))
    throw new ConfigError(`groups: must not contain the node's own id "${props.sbc_id}"`);
  if (props.source === "command" && props.source_command.length === 0)
    throw new ConfigError(
      'source_command: --source command needs the program to run, e.g. --source-command \'["python3","imu.py"]\'',
    );
  return deepFreeze(structuredClone(props));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export { configSchema } from "./config-schema.js";
