#!/usr/bin/env node
// Entry point and composition root: parses config once, wires real implementations, owns signals
// and the exit code. Nothing else in labx calls process.exit.
import { ConfigError, configSchema, loadConfig, type Config } from "../platform/config/config.js";
import { createLogger } from "../platform/log.js";
import { resolveFfmpeg } from "../node/ffmpeg/ffmpeg-path.js";
import { createValidators } from "../contract/schemas.js";
import { AuthFileError } from "../broker/auth-file.js";
import { BrokerConfigError } from "../broker/broker-config.js";
import { LabCredentialsError } from "../broker/lab-credentials.js";
import { childEnvironment } from "../platform/config/child-env.js";
import { CREDENTIALS_USAGE, runCredentials, stderrTerminal } from "./lab-broker.js";
import { runNode } from "./run-node.js";
import { untilSignal } from "./signals.js";
import { hashPassword } from "../broker/password.js";
import { SecurityConfigError } from "../platform/mqtt/client-security.js";
import { CTL_COMMANDS, type CtlCommand } from "../ctl/ctl-args.js";
import { labxVersion } from "../platform/version.js";
import { configSecrets } from "../platform/secrets.js";
import { isTool, runTool } from "./tools.js";
import { systemClock } from "../platform/clock.js";
import { processEnvironment, quietLibraries, type Environment } from "../platform/config/environment.js";

const USAGE = `usage: labx <command> [options]

commands:
  node     run a node: takes commands on MQTT and records batches
  broker   run the embedded MQTT broker alone (--monitor: with the fleet clock monitor)
  ui       the dashboard: every node, its camera preview, the fleet clock plot, events, start and stop
           (labx ui --broker-url URL [--ui-port 8080]; a node serves it too with --ui-port N)
  timecode a full-screen time code (a QR of the time, every display refresh) to film with every camera,
           then labx verify (labx timecode [--ui-port 8080]; the dashboard serves it at /timecode too)
  monitor  publish fleet clock figures (labx/fleet/clock) from every node's clock, and a CSV per session
  passwd   read a password on stdin, print its salted hash for an --auth-file user
  credentials  the lab's logins, made at a broker's first start: how another Pi joins, how a person logs in
           (labx credentials [--data-dir DIR] [--show join|controller] [--rotate])
  cameras  list the V4L2 cameras, their formats, sizes and rates, and what a node would record (--json)
  doctor   check this Pi before an experiment: ffmpeg, cameras, a 5 s test capture, clock, disk, broker
           (node options; --json; exit 1 when a check fails)
  start    start recording on a node, a group or all, and wait for every reply (labx start --help)
  stop     stop a node, a group or all
  status   each node's state, as a table (--json for scripts)
  watch    a live table of the nodes: availability, state, batches, clock, progress
  align    one index of a session recorded by several nodes: timeline.csv and summary.json
           (labx align SESSION --from DIR|s3://BUCKET/PREFIX --out DIR [--rate FPS] [--json])
  verify   each camera's latency and the session's alignment, from a time code filmed by every camera:
           a sync certificate (JSON and PNG) in each session folder (labx verify FOLDER… [--json] [--save])
  conformance  drive one node (labx's or any program speaking the contract) through every promise of
           the contract: a pass/fail table (labx conformance --target ID [--group G] [--data-dir DIR])
  fetch    a session's files from the store, each checked against its sha256, resumed where it stopped
           (labx fetch SESSION --from s3://BUCKET/PREFIX --to DIR [--endpoint URL])

node, broker and monitor options (each also LABX_<KEY> in the environment and <key> in a --config JSON file):
${Object.entries(configSchema())
  .map(([key, s]) => `  --${s.arg.padEnd(18)} ${s.doc} [${key}, default ${JSON.stringify(s.default)}]`)
  .join("\n")}
  --config FILE        JSON file of options`;

async function main(argv: string[]): Promise<number> {
  // The one read of the environment (platform/config/environment.ts): every part below is handed it.
  const env = processEnvironment();
  quietLibraries();
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === "--version") {
    console.log(labxVersion());
    return 0;
  }
  if (command === "passwd") return runPasswd();
  if (command === "credentials") {
    if (rest.includes("--help")) return (console.log(CREDENTIALS_USAGE), 0);
    try {
      return await runCredentials(
        rest,
        env,
        { write: (t) => void process.stdout.write(t), isTTY: false },
        stderrTerminal(),
      );
    } catch (err) {
      if (!(err instanceof ConfigError || err instanceof LabCredentialsError)) throw err;
      console.error(`labx credentials: ${err.message}`);
      return 2;
    }
  }
  if (isTool(command)) return runTool(command, rest, env);
  if ((CTL_COMMANDS as readonly string[]).includes(command)) {
    // Loaded only here: a node never pays for the table, colour and progress libraries.
    const { runCtl } = await import("../ctl/ctl.js");
    return runCtl(command as CtlCommand, rest, {
      stdout: process.stdout,
      stderr: process.stderr,
      env,
      validators: createValidators(),
      until: untilSignal(),
      clock: systemClock(),
    });
  }
  if (!["node", "broker", "monitor", "doctor", "ui", "timecode"].includes(command)) {
    console.error(`labx: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  // --json is how doctor prints, not configuration.
  const json = command === "doctor" && rest.includes("--json");
  let config: Config;
  try {
    config = loadConfig(
      rest.filter((a) => !(json && a === "--json")),
      env,
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`labx: invalid configuration: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.log_level, {
    secrets: configSecrets(config, env),
    ...(command === "node" ? { bindings: { node: config.sbc_id } } : {}),
  });
  try {
    if (command === "doctor") return await runDoctorCli(config, json, env);
    if (command === "ui") return await (await import("./dashboard.js")).runUi(config, log, untilSignal());
    if (command === "timecode")
      return await (await import("./dashboard.js")).runTimecode(config, log, untilSignal(), env);
    // What a recording node does not use is loaded only when asked for: aedes (~12 MiB, ~70 ms, in
    // lab-broker.ts), the dashboard, the fleet monitor (and, in node/upload, the AWS SDK).
    if (command === "broker") return await (await import("./run-broker.js")).runBroker(config, log);
    if (command === "monitor") return await (await import("./run-broker.js")).runMonitor(config, log);
    return await runNode(config, log, env);
  } catch (err) {
    // Files named in the configuration (auth file, certificates) are read at start: same exit as a bad value.
    if (
      err instanceof AuthFileError ||
      err instanceof BrokerConfigError ||
      err instanceof SecurityConfigError
    ) {
      console.error(`labx: invalid configuration: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

/** `labx passwd`: the password on stdin (never an argument, which ps shows), its hash on stdout. */
async function runPasswd(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (!password) {
    console.error("labx passwd: give the password on stdin, e.g.  printf %s 'secret' | labx passwd");
    return 2;
  }
  console.log(await hashPassword(password));
  return 0;
}

async function runDoctorCli(config: Config, json: boolean, env: Environment): Promise<number> {
  const { runDoctor, renderDoctor } = await import("../node/doctor/doctor-cli.js");
  let ffmpegPath = config.ffmpeg_path ?? "ffmpeg";
  try {
    ffmpegPath = resolveFfmpeg({ configured: config.ffmpeg_path, envPath: env.PATH });
  } catch {
    // the ffmpeg check says so
  }
  // The checks' own logging stays quiet: the table (or the JSON) is the output.
  const results = await runDoctor(config, {
    ffmpegPath,
    childEnv: childEnvironment(env, config.child_env),
    env,
    log: createLogger("silent"),
    clock: systemClock(),
  });
  process.stdout.write(json ? JSON.stringify(results, null, 2) + "\n" : renderDoctor(results));
  return results.some((r) => r.verdict === "fail") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error("labx: fatal:", err);
    process.exit(1);
  },
);
