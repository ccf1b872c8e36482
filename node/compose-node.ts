import { spawn as nodeSpawn } from "node:child_process";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import type { Clock } from "../platform/clock.js";
import type { BatchReady, NodeEvent, NodeState } from "../contract/generated/payloads.js";
import type { Validators } from "../contract/schemas.js";
import { commandTopics, isBatchTopic, nodeTopic, type NodeLeaf } from "../contract/topics.js";
import { MqttConnection } from "../platform/mqtt/connection.js";
import { clientSecurity } from "../platform/mqtt/client-security.js";
import { redactor } from "../platform/secrets.js";
import { labxVersion } from "../platform/version.js";
import { createSync } from "./sync/create-sync.js";
import { fileCameraMemory } from "./camera/camera-memory.js";
import { CommandRouter } from "./commands/router.js";
import { Outbox } from "./outbox/outbox.js";
import { NodeMessages } from "./outbox/node-messages.js";
import { createRetention } from "./data/create-retention.js";
import { NodeStateExtras } from "./node-state.js";
import { HaDiscovery, haSubscriptions } from "./homeassistant/ha-discovery.js";
import { SessionController } from "./session/session-controller.js";
import { isNoSpace } from "./session/session-events.js";
import { spawnWithEnvironment, type SpawnFn } from "./process/child-runner.js";
import { createSession } from "./source/create-session.js";
import { createUploader } from "./upload/create-uploader.js";
import { createPreview } from "./preview/create-preview.js";
import type { FfmpegCapabilities } from "./ffmpeg/ffmpeg-capabilities.js";
import { Calibration } from "./calibration/calibration.js";

/** The outbox journal's folder in the data directory (a name no session can take). */
export const OUTBOX_DIR = ".labx";

export interface NodeDeps {
  log: Logger;
  validators: Validators;
  ffmpegPath: string;
  /** What that ffmpeg accepts where releases differ (ffmpeg-capabilities.ts), found once. */
  ffmpegCapabilities?: () => Promise<FfmpegCapabilities>;
  /** See ffmpeg/launcher.ts. */
  launcher: readonly string[];
  spawn?: SpawnFn;
  /** Every child's environment (platform/config/child-env.ts): never the node's own. */
  childEnv: Readonly<Record<string, string>>;
  /** The process's time port (platform/clock.ts): every part's wall-clock time and timers. */
  clock: Clock;
  /** Every secret of the configuration and the environment (platform/secrets.ts configSecrets). */
  secrets: readonly string[];
}

export type NodeParts = ReturnType<typeof composeNode>;

/**
 * The node's parts, built in order: each from those before it, none used before it exists. The
 * feedback between them (the state republished when free space or calibration change, a full journal
 * ending the session, what the connection hears) is wired last, once every part is there.
 */
export function composeNode(config: Config, deps: NodeDeps) {
  const { clock } = deps;
  const log = deps.log.child({ module: "node" });
  const logOf = (module: string): Logger => deps.log.child({ module });
  const spawn = spawnWithEnvironment(deps.spawn ?? nodeSpawn, deps.childEnv);
  /** Every secret of the configuration out of a text: messages, and a recovered program's kept output. */
  const redact = redactor(deps.secrets);
  const topic = (leaf: NodeLeaf): string => nodeTopic(config.base_topic, config.sbc_id, leaf);

  const connection = new MqttConnection({
    url: config.broker_url,
    clientId: `labx-${config.sbc_id}`,
    keepaliveS: config.mqtt_keepalive,
    availabilityTopic: topic("availability"),
    subscriptions: [
      ...commandTopics(config.base_topic, config.sbc_id, config.groups),
      ...haSubscriptions(config.ha_discovery, config.ha_prefix),
    ],
    log: logOf("mqtt"),
    security: clientSecurity(config),
    clock,
  });
  const ha = new HaDiscovery({
    enabled: config.ha_discovery,
    prefix: config.ha_prefix,
    base: config.base_topic,
    node: config.sbc_id,
    groups: config.groups,
    version: labxVersion(),
    log: logOf("homeassistant"),
    publish: (t, payload, retain) => connection.publish(t, payload, { qos: 1, retain }),
  });
  const outbox = new Outbox({
    dir: path.join(config.data_dir, OUTBOX_DIR),
    log: logOf("outbox"),
    clock,
    publish: (e) =>
      connection.publish(e.topic, e.payload, {
        qos: 1,
        retain: e.retain ?? false,
        ...(e.correlation && connection.protocolVersion === 5
          ? { properties: { correlationData: Buffer.from(e.correlation, "base64") } }
          : {}),
      }),
  });
  const messages = new NodeMessages({
    outbox,
    publish: (t, payload, options) => connection.publish(t, payload, options),
    redact,
    log,
  });
  const publishEvent = (event: Omit<NodeEvent, "node" | "at">): void =>
    messages.oweJson(topic("event"), {
      node: config.sbc_id,
      at: new Date(clock.now()).toISOString(),
      ...event,
    } satisfies NodeEvent);
  const sync = createSync(config, {
    log: logOf("sync"),
    publishClock: (status) => messages.latest(topic("clock"), status),
    publishEvent,
    clock,
  });
  const calibration = new Calibration({
    dataDir: config.data_dir,
    configuredMs: config.latency_ms,
    log: logOf("calibration"),
    clock,
  });
  const extras = new NodeStateExtras({
    dataDir: config.data_dir,
    groups: config.groups,
    latency: () => calibration.effective,
    log,
    clock,
  });
  const uploader = createUploader(config, {
    log: logOf("upload"),
    event: publishEvent,
    onBacklog: (b) => extras.setUpload(b),
    reserved: [OUTBOX_DIR],
    clock,
  });
  const preview = createPreview(config, {
    log: logOf("preview"),
    ffmpegPath: deps.ffmpegPath,
    spawn,
    clock,
    // A latest value, like the state: sent when connected, else skipped (the next one follows).
    publish: async (jpeg) => {
      if (connection.connected) await connection.publish(topic("preview"), jpeg, { qos: 0, retain: true });
    },
  });
  const controller = new SessionController(config, {
    createSession,
    redact,
    latencyUs: () => Math.round((calibration.effective?.ms ?? 0) * 1000),
    log: logOf("session"),
    ffmpegPath: deps.ffmpegPath,
    ...(deps.ffmpegCapabilities ? { ffmpegCapabilities: deps.ffmpegCapabilities } : {}),
    launcher: deps.launcher,
    spawn,
    childEnv: deps.childEnv,
    clock,
    cameraMemory: fileCameraMemory(config.data_dir, { validators: deps.validators, log, clock }),
    syncStatus: () => sync.snapshot(),
    publishState: (state) => {
      preview?.track(state);
      messages.latest(topic("state"), extras.decorate(state));
    },
    publishEvent,
    // Resolves once journaled, never waiting for the broker: the outbox delivers when it can.
    announce: (batch: BatchReady) =>
      messages.owe(topic("batch"), JSON.stringify(batch)).then(() => uploader?.batchListed(batch)),
  });
  const state = (): NodeState => extras.decorate(controller.state);
  const retention = createRetention(config, {
    held: () =>
      new Set([
        ...outbox.pendingSessions((t) => isBatchTopic(config.base_topic, t)),
        ...(uploader?.pendingSessions ?? []),
      ]),
    event: publishEvent,
    log: logOf("retention"),
    clock,
  });
  const router = new CommandRouter({
    node: config.sbc_id,
    validators: deps.validators,
    maxPayloadBytes: config.max_payload_bytes,
    log: logOf("commands"),
    handlers: {
      start: async (c) => extras.decorate(await controller.start(c)),
      stop: async () => extras.decorate(await controller.stop()),
      status: async () => state(),
      calibrate: async (c) => {
        await calibration.save(c.latency_ms, c.session);
        if (connection.connected) messages.latest(topic("state"), state());
        return state();
      },
    },
    reply: (reply, packet) => messages.reply(topic("reply"), reply, packet),
  });

  // The feedback, now that every part exists.
  controller.onSessionEnded(async (_result, session) => {
    if (session) uploader?.sessionEnded(session);
    await retention.apply();
  });
  extras.onChange(() => {
    if (connection.connected) messages.latest(topic("state"), state());
  });
  outbox.onWriteError((err) => {
    if (isNoSpace(err))
      controller.diskFull(`the outbox journal could not be written (${(err as Error).message})`);
  });
  connection.onConnect(() => {
    messages.latest(topic("state"), state());
    // Retained messages do not survive a broker restart without persistence: say it again.
    const status = sync.status;
    if (status) messages.latest(topic("clock"), status);
    outbox.onConnect();
    ha.onConnect();
  });
  connection.onClose(() => outbox.onDisconnect());
  connection.onMessage((t, payload, packet) => {
    if (ha.onMessage(t, payload)) return;
    void router.handle(payload, packet);
  });
  return {
    log,
    redact,
    connection,
    outbox,
    messages,
    publishEvent,
    sync,
    extras,
    uploader,
    preview,
    controller,
    retention,
    state,
  };
}
