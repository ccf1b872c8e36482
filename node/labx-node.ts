import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { IPublishPacket } from "mqtt";
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import type { BatchReady, NodeEvent, NodeState, Reply } from "../contract/generated/payloads.js";
import { chronycRunner } from "./clock/chronyc.js";
import { ClockMonitor } from "./clock/monitor.js";
import { CommandRouter } from "./commands/router.js";
import { MqttConnection, OfflineError } from "../platform/mqtt/connection.js";
import { clientSecurity } from "../platform/mqtt/client-security.js";
import { commandTopics, nodeTopic, type NodeLeaf } from "../contract/topics.js";
import { Outbox } from "./outbox/outbox.js";
import { Retention } from "./store/retention.js";
import { FreeSpace } from "../platform/disk/free-space.js";
import { HaDiscovery } from "./homeassistant/ha-discovery.js";
import { labxVersion } from "../platform/version.js";
import { SessionController } from "./session/session-controller.js";
import type { SpawnFn } from "./ffmpeg/ffmpeg-process.js";
import type { RecordingResult } from "./session/recording-types.js";
import { recoverSessions } from "./store/recovery.js";
import type { Validators } from "../contract/schemas.js";
import { configSecrets, redactor, type Redact } from "../platform/secrets.js";
import { callSafely } from "../platform/listeners.js";
import { isNoSpace } from "./session/recording-events.js";

/** The outbox journal's folder in the data directory (a name no session can take). */
export const OUTBOX_DIR = ".labx";
const DRAIN_TIMEOUT_MS = 5000;
const FREE_SPACE_INTERVAL_MS = 30_000;

export interface NodeDeps {
  log: Logger;
  validators: Validators;
  ffmpegPath: string;
  /** See recorder/launcher.ts. */
  launcher: readonly string[];
  spawn?: SpawnFn;
  now?: () => Date;
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
  private readonly freeSpace: FreeSpace;
  private readonly ha: HaDiscovery;
  /** Absent with --disable-sync. */
  private readonly clock: ClockMonitor | null;
  private readonly log: Logger;
  private readonly publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
  private readonly ffmpegPath: string;
  /** The last wall before MQTT and the journal: no configured secret leaves in a payload. */
  private readonly redact: Redact;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    deps: NodeDeps,
  ) {
    this.log = deps.log.child({ module: "node" });
    this.ffmpegPath = deps.ffmpegPath;
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
    });
    this.outbox = new Outbox({
      dir: path.join(config.data_dir, OUTBOX_DIR),
      log: deps.log.child({ module: "outbox" }),
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
    const publishEvent = (this.publishEvent = (event: Omit<NodeEvent, "node" | "at">): void => {
      const body: NodeEvent = {
        node: config.sbc_id,
        at: (deps.now?.() ?? new Date()).toISOString(),
        ...event,
      };
      this.durably(topic("event"), body);
    });
    this.clock = config.disable_sync
      ? null
      : new ClockMonitor({
          node: config.sbc_id,
          intervalMs: config.sync_interval * 1000,
          maxRootDistanceS: config.max_root_distance_ms / 1000,
          chronyc: chronycRunner({
            path: config.chronyc_path,
            host: config.chrony_host || null,
            port: config.chrony_port || null,
            timeoutMs: 5000,
          }),
          log: deps.log.child({ module: "clock" }),
          publishClock: (status) => this.publishJson(topic("clock"), status, true),
          publishEvent,
          now: deps.now,
        });
    this.controller = new SessionController(config, {
      log: deps.log.child({ module: "recorder" }),
      ffmpegPath: deps.ffmpegPath,
      launcher: deps.launcher,
      spawn: deps.spawn,
      now: deps.now,
      clock: () => this.clock?.snapshot() ?? { synced: false, reason: "sync disabled" },
      publishState: (state) => this.publishJson(topic("state"), this.decorate(state), true),
      publishEvent,
      // Resolves once journaled, never waiting for the broker: the outbox delivers when it can.
      announce: (batch: BatchReady) => this.owe(topic("batch"), JSON.stringify(batch)),
    });
    this.retention = new Retention({
      dataDir: config.data_dir,
      policy: { retentionDays: config.retention_days, maxUsageBytes: config.max_usage_mb * 1024 * 1024 },
      undelivered: () => this.outbox.pendingSessions(),
      log: deps.log.child({ module: "retention" }),
    });
    this.controller.onSessionEnded(() => void this.retention.apply());
    this.router = new CommandRouter({
      node: config.sbc_id,
      validators: deps.validators,
      maxPayloadBytes: config.max_payload_bytes,
      log: deps.log.child({ module: "commands" }),
      handlers: {
        start: async (c) => this.decorate(await this.controller.start(c)),
        stop: async () => this.decorate(await this.controller.stop()),
        status: async () => this.state,
      },
      reply: (reply, packet) => this.reply(topic("reply"), reply, packet),
    });
    this.freeSpace = new FreeSpace({
      dir: config.data_dir,
      intervalMs: FREE_SPACE_INTERVAL_MS,
      onChange: () =>
        callSafely(this.log, "free space", () => {
          if (this.connection.connected) this.publishJson(topic("state"), this.state, true);
        }),
    });
    this.connection.onConnect(() => {
      this.publishJson(topic("state"), this.state, true);
      // Retained messages do not survive a broker restart without persistence: say it again.
      const clock = this.clock?.status;
      if (clock) this.publishJson(topic("clock"), clock, true);
      this.outbox.onConnect();
      this.ha.onConnect();
    });
    this.connection.onClose(() => this.outbox.onDisconnect());
    this.connection.onMessage((t, payload, packet) => {
      if (this.ha.onMessage(t, payload)) return;
      void this.router.handle(payload, packet);
    });
  }

  get state(): NodeState {
    return this.decorate(this.controller.state);
  }

  /** What the node adds to the recorder's state: its groups (for controllers) and free space. */
  private decorate(state: NodeState): NodeState {
    const free = this.freeSpace.mb;
    return { ...state, groups: [...this.config.groups], ...(free === undefined ? {} : { free_mb: free }) };
  }

  onSessionEnded(handler: (r: RecordingResult) => unknown): () => void {
    return this.controller.onSessionEnded(handler);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await mkdir(this.config.data_dir, { recursive: true });
    this.outbox.start();
    // Before the first connect: what a killed predecessor left is journaled, then sent in order.
    await recoverSessions({
      dataDir: this.config.data_dir,
      node: this.config.sbc_id,
      ffmpegPath: this.ffmpegPath,
      log: this.log.child({ module: "recovery" }),
      announce: (batch) =>
        this.owe(nodeTopic(this.config.base_topic, this.config.sbc_id, "batch"), JSON.stringify(batch)),
      publishEvent: this.publishEvent,
      clock: () => ({
        synced: false,
        reason: "recovered after a restart: the clock's state while recording is unknown",
      }),
      settleMs: this.config.stop_timeout * 1000,
    });
    await this.retention.apply();
    this.retention.start();
    await this.freeSpace.start();
    await this.connection.start();
    await this.clock?.start();
    this.log.info({ groups: this.config.groups, data_dir: this.config.data_dir }, "node ready");
  }

  /** Starts a session directly (for --duration at launch), with the same checks as the command. */
  startSession(opts: { session?: string; duration?: number }): Promise<NodeState> {
    return this.controller.start(opts);
  }

  /** Finalizes and announces any recording, publishes offline, disconnects. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.controller.shutdown();
      this.clock?.stop();
      this.retention.stop();
      this.freeSpace.stop();
      // With the broker up, what is owed goes out now; otherwise it waits in the journal for the next run.
      if (!(await this.outbox.drain(DRAIN_TIMEOUT_MS)))
        this.log.warn(
          { pending: this.outbox.pendingCount },
          "stopping with undelivered messages (kept for the next start)",
        );
      await this.connection.stop();
      await this.outbox.stop();
      this.log.info("node stopped");
    })();
    return this.stopping;
  }

  private async reply(replyTopic: string, reply: Reply, packet: IPublishPacket): Promise<void> {
    const payload = JSON.stringify(reply);
    const sends = [this.owe(replyTopic, payload)];
    const props = packet.properties;
    if (props?.responseTopic) sends.push(this.owe(props.responseTopic, payload, props.correlationData));
    await Promise.all(sends);
  }

  /** Events and replies: journaled, then delivered at least once (see outbox.ts). */
  private durably(t: string, payload: object): void {
    this.owe(t, JSON.stringify(payload)).catch((err: unknown) => {
      this.log.error({ err, topic: t }, "could not journal a message");
    });
  }

  /** Journaled, then delivered at least once; secrets stripped before either. */
  private owe(t: string, payload: string, correlation?: Buffer): Promise<void> {
    return this.outbox.add({
      topic: t,
      payload: this.redact(payload),
      ...(correlation ? { correlation } : {}),
    });
  }

  private publishJson(t: string, payload: object, retain: boolean): void {
    this.connection
      .publish(t, this.redact(JSON.stringify(payload)), { qos: 1, retain })
      .catch((err: unknown) => {
        // Offline, a latest-value message is dropped by design (it is sent afresh on connect).
        if (err instanceof OfflineError) this.log.debug({ topic: t }, "offline: not published");
        else this.log.warn({ err, topic: t }, "publish failed");
      });
  }
}
