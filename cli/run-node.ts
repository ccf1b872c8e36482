// `labx node`: the process's parts as Units (platform/units.ts), started in order and stopped in
// reverse: the embedded broker (--embedded-broker), the node, its dashboard (--ui-port).
import type { Config } from "../platform/config/config.js";
import type { Environment } from "../platform/config/environment.js";
import { childEnvironment } from "../platform/config/child-env.js";
import type { createLogger } from "../platform/log.js";
import { systemClock } from "../platform/clock.js";
import { configSecrets, redactUrl } from "../platform/secrets.js";
import { unit, Units, type Unit } from "../platform/units.js";
import { createValidators } from "../contract/schemas.js";
import { LabxNode } from "../node/labx-node.js";
import { resolveFfmpeg, FfmpegNotFoundError } from "../node/ffmpeg/ffmpeg-path.js";
import { describeFfmpegVersion, inTestedRange, readFfmpegVersion } from "../node/ffmpeg/ffmpeg-version.js";
import { probeFfmpegCapabilities } from "../node/ffmpeg/ffmpeg-capabilities.js";
import { resolveLauncher } from "../node/ffmpeg/launcher.js";
import { labAuthPaths } from "../broker/lab-credentials.js";
import type { EmbeddedBroker } from "../broker/embedded-broker.js";
import type { UiServer } from "../ui/ui-server.js";
import { startLabBroker, stderrTerminal } from "./lab-broker.js";
import { untilSignal } from "./signals.js";

type Log = ReturnType<typeof createLogger>;

export async function runNode(config: Config, log: Log, env: Environment): Promise<number> {
  let ffmpegPath: string;
  try {
    ffmpegPath = resolveFfmpeg({ configured: config.ffmpeg_path, envPath: env.PATH });
  } catch (err) {
    if (err instanceof FfmpegNotFoundError) {
      console.error(`labx: ${err.message}`);
      return 3;
    }
    throw err;
  }
  const childEnv = childEnvironment(env, config.child_env);
  // Asked once, in the background: the first session waits for the capabilities if it comes first.
  const capabilities = probeFfmpegCapabilities(ffmpegPath, childEnv);
  void Promise.all([readFfmpegVersion(ffmpegPath, childEnv), capabilities]).then(
    ([v, caps]) => {
      const tested = inTestedRange(v);
      const fields = { ffmpeg: ffmpegPath, version: v.text, tested, enc_time_base: caps.encTimeBase };
      if (tested) log.info(fields, "ffmpeg found");
      else log.warn(fields, describeFfmpegVersion(v));
    },
    (err: unknown) =>
      log.warn({ ffmpeg: ffmpegPath, err: (err as Error).message }, "ffmpeg's version unknown"),
  );
  const launcher = resolveLauncher();
  if (launcher.warning) log.warn({ reason: launcher.warning }, "ffmpeg may outlive the node");
  const clock = systemClock();

  // Each part is made as its turn comes: the node reaches the embedded broker at the port it got.
  let effective = config;
  let broker: EmbeddedBroker | null = null;
  let node: LabxNode | null = null;
  let ui: UiServer | null = null;
  const brokerUnit = unit(
    "broker",
    async () => {
      const started = await startLabBroker(config, log, stderrTerminal());
      broker = started.broker;
      // The node and its dashboard reach the broker on loopback; the dashboard knows the lab's roles.
      effective = Object.freeze({
        ...config,
        broker_url: `mqtt://127.0.0.1:${started.port}`,
        auth_file: config.auth_file || labAuthPaths(config.data_dir).authFile,
      });
    },
    () => broker?.stop(),
  );
  const nodeUnit = unit(
    "node",
    () => {
      node = new LabxNode(effective, {
        log,
        validators: createValidators(),
        ffmpegPath,
        ffmpegCapabilities: () => capabilities,
        launcher: launcher.prefix,
        // The one place the node's environment is read for its children: an allowlist (docs/security.md).
        childEnv,
        secrets: configSecrets(effective, env),
        clock,
      });
      return node.start();
    },
    () => node?.stop(),
  );
  // The node records whether or not its dashboard could start.
  const uiUnit = unit(
    "dashboard",
    async () => {
      try {
        ui = await (await import("./dashboard.js")).startDashboard(effective, log, clock);
      } catch (err) {
        log.error({ err }, "dashboard not started");
        console.error(`labx: the dashboard could not start: ${(err as Error).message}`);
      }
    },
    () => ui?.stop(),
  );
  const units = new Units(
    [
      ...(config.embedded_broker ? [brokerUnit] : []),
      nodeUnit,
      ...(config.ui_port !== null ? [uiUnit] : []),
    ] satisfies Unit[],
    log,
  );

  // Listening from here: a node still waiting for its broker stops cleanly on Ctrl+C too.
  const signalled = untilSignal();
  try {
    const early = await Promise.race([units.start().then(() => null), signalled]);
    if (early) {
      log.info({ signal: early }, "shutting down before the broker was reached");
      await units.stop();
      return 0;
    }
  } catch (err) {
    log.error({ err }, "node could not start");
    // Only a broker's CONNACK refusal carries a numeric code; anything else is the node's own failure.
    const refused = typeof (err as { code?: unknown }).code === "number";
    const why = redactUrl((err as Error).message);
    console.error(
      refused
        ? `labx: the broker at ${redactUrl(effective.broker_url)} refused the connection: ${why}`
        : `labx: the node could not start: ${why}`,
    );
    await units.stop();
    return 1;
  }
  const exit = await recordAtLaunch(config, node!, log, signalled);
  await units.stop();
  return exit;
}

/** --duration: the old collector's habit, record at launch and exit when done; else until a signal. */
async function recordAtLaunch(
  config: Config,
  node: LabxNode,
  log: Log,
  signalled: Promise<NodeJS.Signals>,
): Promise<number> {
  let exitCode = 0;
  const finished = new Promise<void>((resolve) => {
    if (config.duration === null) return;
    node.onSessionEnded((r) => {
      if (r.reason === "failed") exitCode = 1;
      resolve();
    });
    node
      .startSession({ session: config.session ?? undefined, duration: config.duration })
      .catch((err: unknown) => {
        log.error({ err }, "recording at launch failed");
        console.error(`labx: recording could not start: ${redactUrl((err as Error).message)}`);
        exitCode = 1;
        resolve();
      });
  });
  const signal = await Promise.race([signalled, finished.then(() => null)]);
  if (signal) log.info({ signal }, "shutting down");
  return exitCode;
}
