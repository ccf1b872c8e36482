import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import type { BatchReady, NodeEvent, NodeState } from "../contract/generated/payloads.js";
import type { SyncMonitor } from "./sync/sync-monitor.js";
import type { SyncDisabled } from "./sync/sync-disabled.js";
import { createSync } from "./sync/create-sync.js";
import { fileCameraMemory } from "./camera/camera-memory.js";
import { CommandRouter } from "./commands/router.js";
import { MqttConnection } from "../platform/mqtt/connection.js";
import { clientSecurity } from "../platform/mqtt/client-security.js";
import { commandTopics, nodeTopic, type NodeLeaf } from "../contract/topics.js";
import { Outbox } from "./outbox/outbox.js";
import type { Retention } from "./store/retention.js";
import { nodeRetention } from "./store/node-retention.js";
import { NodeStateExtras } from "./node-state.js";
import { HaDiscovery } from "./homeassistant/ha-discovery.js";
import { labxVersion } from "../platform/version.js";
import { SessionController } from "./session/session-controller.js";
import { spawn as nodeSpawn } from "node:child_process";
import { spawnWithEnvironment, type SpawnFn } from "./process/child-runner.js";
import type { RecordingResult } from "./session/recording-types.js";
import { recoverSessions, type RecoveryDeps } from "./store/recovery.js";
import { recoverCommandSessions } from "./source/command-recovery.js";
import { createRecording } from "./source/create-recording.js";
import type { Validators } from "../contract/schemas.js";
import { configSecrets, redactor } from "../platform/secrets.js";
import { NodeMessages } from "./outbox/node-messages.js";
import { part, unit, Units } from "../platform/units.js";
import { isNoSpace } from "./session/recording-events.js";
import { createUploader } from "./upload/create-uploader.js";
import type { Uploader } from "./upload/uploader.js";
import { createPreview } from "./preview/create-preview.js";
import type { PreviewPublisher } from "./preview/preview-publisher.js";
import type { FfmpegCapabilities } from "./ffmpeg/ffmpeg-capabilities.js";
import { Calibration } from "./calibration/calibration.js";
import type { Clock } from "../platform/clock.js";

/** The outbox journal's folder in the data directory (a name no session can take). */
export const OUTBOX_DIR = ".labx";
const DRAIN_TIMEOUT_MS = 5000;

export interface NodeDeps {
  log: Logger;
  validators: Validators;
  ffmpegPath: string;
  /** What that ffmpeg accepts where releases differ (ffmpeg-capabilities.ts), found once. */
  ffmpegCapabilities?: () => Promise<FfmpegCapabilities>;
  /** See recorder/launcher.ts. */
  launcher: readonly string[];
  spawn?: SpawnFn;
  /** Every child's environment (platform/config/child-env.ts): never the node's own. */
  childEnv: Readonly<Record<string, string>>;
  /** The process's time port (platform/clock.ts): every part's wall-clock time and timers. */
  clock: Clock;
}

/**
 * One labx node: an MQTT session, the command router and the recorder, started in that order's
 * reverse and stopped so that the last batch is announced before `offline` goes out.
 */
export class LabxNode {
  private readonly connection: MqttConnection;
  private readonly controller: SessionController;
  private readonly router: CommandRouter;
  private readonly outbox: Outbox;
  private readonly retention: Retention;
  /** Groups and free space in the state (node-state.ts). */
  private readonly extras: NodeStateExtras;
  private readonly ha: HaDiscovery;
  /** The camera's latency correction (node/calibration/). */
  private readonly calibration: Calibration;
  /** With --upload-url (node/upload/). */
  private readonly uploader: Uploader | null;
  /** Absent with --preview-interval 0. */
  private readonly preview: PreviewPublisher | null;
  /** chrony's status; with --disable-sync, a clock that says so (sync/sync-disabled.ts). */
  private readonly sync: SyncMonitor | SyncDisabled;
  private readonly log: Logger;
  private readonly publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
  /** Every secret of the configuration out of a text: messages, and a recovered program's kept output. */
  private readonly redact: (text: string) => string;
  private readonly messages: NodeMessages;
  /** Every part, in start order (platform/units.ts). */
  private readonly units: Units;
  private ready: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    private readonly deps: NodeDeps,
  ) {
    this.log = deps.log.child({ module: "node" });
    const spawn = spawnWithEnvironment(deps.spawn ?? nodeSpawn, deps.childEnv);
    this.redact = redactor(configSecrets(config));
    const topic = (leaf: NodeLeaf): string => nodeTopic(config.base_topic, config.sbc_id, leaf);
    this.ha = new HaDiscovery({
      enabled: config.ha_discovery,
      prefix: config.ha_prefix,
      base: config.base_topic,
      node: config.sbc_id,
      groups: config.groups,
      version: labxVersion(),
      log: deps.log.child({ module: "homeassistant" }),
      publish: (t, payload, retain) => this.connection.publish(t, payload, { qos: 1, retain }),
    });
    this.connection = new MqttConnection({
      url: config.broker_url,
      clientId: `labx-${config.sbc_id}`,
      keepaliveS: config.mqtt_keepalive,
      availabilityTopic: topic("availability"),
      subscriptions: [
        ...commandTopics(config.base_topic, config.sbc_id, config.groups),
        ...this.ha.subscriptions,
      ],
      log: deps.log.child({ module: "mqtt" }),
      security: clientSecurity(config),
      clock: deps.clock,
    });
    this.outbox = new Outbox({
      dir: path.join(config.data_dir, OUTBOX_DIR),
      log: deps.log.child({ module: "outbox" }),
      clock: deps.clock,
      onWriteError: (err) => {
        if (isNoSpace(err))
          this.controller.diskFull(`the outbox journal could not be written (${(err as Error).message})`);
      },
      publish: (e) =>
        this.connection.publish(e.topic, e.payload, {
          qos: 1,
          retain: e.retain ?? false,
          ...(e.correlation && this.connection.protocolVersion === 5
            ? { properties: { correlationData: Buffer.from(e.correlation, "base64") } }
            : {}),
        }),
    });
    this.messages = new NodeMessages({
      outbox: this.outbox,
      publish: (t, payload, options) => this.connection.publish(t, payload, options),
      redact: this.redact,
      log: this.log,
    });
    const publishEvent = (this.publishEvent = (event: Omit<NodeEvent, "node" | "at">): void => {
      const body: NodeEvent = {
        node: config.sbc_id,
        at: new Date(deps.clock.now()).toISOString(),
        ...event,
      };
      this.messages.oweJson(topic("event"), body);
    });
    this.sync = createSync(config, {
      log: deps.log.child({ module: "sync" }),
      publishClock: (status) => this.messages.latest(topic("clock"), status),
      publishEvent,
      clock: deps.clock,
    });
    this.calibration = new Calibration({
      dataDir: config.data_dir,
      configuredMs: config.latency_ms,
      log: deps.log.child({ module: "calibration" }),
      clock: deps.clock,
    });
    this.controller = new SessionController(config, {
      createRecording,
      latencyUs: () => Math.round((this.calibration.effective?.ms ?? 0) * 1000),
      log: deps.log.child({ module: "recorder" }),
      ffmpegPath: deps.ffmpegPath,
      ...(deps.ffmpegCapabilities ? { ffmpegCapabilities: deps.ffmpegCapabilities } : {}),
      launcher: deps.launcher,
      spawn,
      childEnv: deps.childEnv,
      clock: deps.clock,
      cameraMemory: fileCameraMemory(config.data_dir, {
        validators: deps.validators,
        log: this.log,
        clock: deps.clock,
      }),
      syncStatus: () => this.sync.snapshot(),
      publishState: (state) => {
        this.preview?.track(state);
        this.messages.latest(topic("state"), this.extras.decorate(state));
      },
      publishEvent,
      // Resolves once journaled, never waiting for the broker: the outbox delivers when it can.
      announce: (batch: BatchReady) =>
        this.messages.owe(topic("batch"), JSON.stringify(batch)).then(() => this.uploader?.nudge()),
    });
    this.preview = createPreview(config, {
      log: deps.log.child({ module: "preview" }),
      ffmpegPath: deps.ffmpegPath,
      spawn,
      clock: deps.clock,
      // A latest value, like the state: sent when connected, else skipped (the next one follows).
      publish: async (jpeg) => {
        if (this.connection.connected)
          await this.connection.publish(topic("preview"), jpeg, { qos: 0, retain: true });
      },
    });
    this.uploader = createUploader(config, {
      log: deps.log.child({ module: "upload" }),
      event: publishEvent,
      onBacklog: (b) => this.extras.setUpload(b),
      reserved: [OUTBOX_DIR],
      clock: deps.clock,
    });
    this.retention = nodeRetention(config, {
      held: () => new Set([...this.outbox.pendingSessions(), ...(this.uploader?.pendingSessions ?? [])]),
      event: publishEvent,
      log: deps.log.child({ module: "retention" }),
      clock: deps.clock,
    });
    this.controller.onSessionEnded(() => void this.retention.apply());
    this.router = new CommandRouter({
      node: config.sbc_id,
      validators: deps.validators,
      maxPayloadBytes: config.max_payload_bytes,
      log: deps.log.child({ module: "commands" }),
      handlers: {
        start: async (c) => this.extras.decorate(await this.controller.start(c)),
        stop: async () => this.extras.decorate(await this.controller.stop()),
        status: async () => this.state,
        calibrate: async (c) => {
          await this.calibration.save(c.latency_ms, c.session);
          if (this.connection.connected) this.messages.latest(topic("state"), this.state);
          return this.state;
        },
      },
      reply: (reply, packet) => this.messages.reply(topic("reply"), reply, packet),
    });
    this.extras = new NodeStateExtras({
      dataDir: config.data_dir,
      groups: config.groups,
      latency: () => this.calibration.effective,
      log: this.log,
      clock: deps.clock,
      onChange: () => {
        if (this.connection.connected) this.messages.latest(topic("state"), this.state);
      },
    });
    this.connection.onConnect(() => {
      this.messages.latest(topic("state"), this.state);
      // Retained messages do not survive a broker restart without persistence: say it again.
      const clock = this.sync.status;
      if (clock) this.messages.latest(topic("clock"), clock);
      this.outbox.onConnect();
      this.ha.onConnect();
    });
    this.connection.onClose(() => this.outbox.onDisconnect());
    this.connection.onMessage((t, payload, packet) => {
      if (this.ha.onMessage(t, payload)) return;
      void this.router.handle(payload, packet);
    });
    this.units = new Units(
      [
        unit("data dir", async () => void (await mkdir(config.data_dir, { recursive: true }))),
        part("outbox", this.outbox),
        unit("recovery", () => this.recover()),
        unit(
          "retention",
          async () => {
            await this.retention.apply();
            this.retention.start();
          },
          () => this.retention.stop(),
        ),
        this.extras,
        part("upload", this.uploader),
        part("mqtt", this.connection),
        unit(
          "delivery",
          () => {},
          () => this.drain(),
        ),
        part("sync", this.sync),
        part("preview", this.preview),
        unit(
          "sessions",
          () => {},
          () => this.controller.shutdown(),
        ),
      ],
      this.log,
    );
  }

  get state(): NodeState {
    return this.extras.decorate(this.controller.state);
  }

  onSessionEnded(handler: (r: RecordingResult) => unknown): () => void {
    return this.controller.onSessionEnded(handler);
  }

  /** Starts every part in order (units below); resolves when the node is ready. Idempotent. */
  start(): Promise<void> {
    this.ready ??= this.units.start().then(() => {
      this.log.info({ groups: this.config.groups, data_dir: this.config.data_dir }, "node ready");
    });
    return this.ready;
  }

  /** Recovers what a killed predecessor left: journaled before the first connect, then sent in order. */
  private async recover(): Promise<void> {
    const deps: RecoveryDeps = {
      dataDir: this.config.data_dir,
      node: this.config.sbc_id,
      ffmpegPath: this.deps.ffmpegPath,
      childEnv: this.deps.childEnv,
      redact: this.redact,
      log: this.log.child({ module: "recovery" }),
      announce: (batch) =>
        this.messages.owe(
          nodeTopic(this.config.base_topic, this.config.sbc_id, "batch"),
          JSON.stringify(batch),
        ),
      publishEvent: this.publishEvent,
      syncStatus: () => ({
        synced: false,
        reason: "recovered after a restart: the clock's state while recording is unknown",
      }),
      settleMs: this.config.stop_timeout * 1000,
      clock: this.deps.clock,
    };
    await recoverSessions(deps);
    await recoverCommandSessions(deps);
  }

  /** With the broker up, what is owed goes out now; otherwise it waits in the journal for the next run. */
  private async drain(): Promise<void> {
    if (!(await this.outbox.drain(DRAIN_TIMEOUT_MS)))
      this.log.warn(
        { pending: this.outbox.pendingCount },
        "stopping with undelivered messages (kept for the next start)",
      );
  }

  /** Starts a session directly (for --duration at launch), with the same checks as the command. */
  startSession(opts: { session?: string; duration?: number }): Promise<NodeState> {
    return this.controller.start(opts);
  }

  /**
   * Stops in reverse: sessions end (the last batch finalized and journaled), the clock stops, what is
   * owed is delivered while the broker is there, then `offline` and the disconnect. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.units.stop().then(() => this.log.info("node stopped"));
    return this.stopping;
  }
}
