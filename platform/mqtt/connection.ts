import mqtt, {
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
} from "mqtt";
import type { Logger } from "pino";
import type { ClientSecurity } from "./client-security.js";
import { redactUrl } from "../secrets.js";
import { NoStore } from "./no-store.js";
import { Listeners } from "../listeners.js";
import { parseBrokerList, type BrokerList } from "./broker-list.js";
import type { Clock } from "../clock.js";
import { sleep } from "../timers.js";

/** A publish while the connection is down: dropped, not queued. */
export class OfflineError extends Error {
  constructor(topic: string) {
    super(`offline: ${topic} not sent`);
  }
}

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

export interface ConnectionOptions {
  /** One broker URL, or the members of a cluster comma-separated (broker-list.ts): a lost
   * connection moves to the next member. */
  url: string;
  clientId: string;
  /** Retained `online`/`offline` here, and the will; absent for a visitor (a controller): neither. */
  availabilityTopic?: string;
  /** Subscribed on every (re)connect, with those added by subscribe(). */
  subscriptions: string[];
  log: Logger;
  reconnectPeriodMs?: number;
  /** Seconds; MQTT.js's default (60) when absent. */
  keepaliveS?: number;
  /** Credentials and TLS material (see client-security.ts). */
  security?: ClientSecurity;
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  /**
   * True (the node, the monitor): start() resolves when the first attempt finds no broker, and the
   * owner works offline. False (a controller, with a timeout of its own): start() waits for the broker.
   */
  workOffline?: boolean;
  /** The process's time port (platform/clock.ts): the wait between subscription attempts. */
  clock: Clock;
}

/**
 * The node's MQTT session, after zigbee2mqtt's lib/mqtt.ts: a retained QoS 1 `offline` will; on every
 * (re)connect, command subscriptions, then (once acknowledged) retained `online` and the owner's onConnect work,
 * and `offline` published before a clean stop. Speaks MQTT 5 and falls back to 3.1.1 for brokers
 * that refuse it (aedes 1.x). publish() resolves when the broker acknowledged a QoS 1 message.
 */
export class MqttConnection {
  private client: MqttClient | null = null;
  private version: 4 | 5 = 5;
  private readonly messageListeners: Listeners<Parameters<MessageHandler>>;
  private readonly connectListeners: Listeners<[]>;
  private readonly closeListeners: Listeners<[]>;
  /** The first connection attempt's outcome, until it is known. */
  private firstOutcome: { resolve: () => void; reject: (err: unknown) => void } | null = null;
  private readonly subscriptions: Set<string>;
  private readonly brokers: BrokerList;

  constructor(private readonly opts: ConnectionOptions) {
    this.brokers = parseBrokerList(opts.url);
    this.subscriptions = new Set(opts.subscriptions);
    this.messageListeners = new Listeners(opts.log, "mqtt message");
    this.connectListeners = new Listeners(opts.log, "mqtt connect");
    this.closeListeners = new Listeners(opts.log, "mqtt close");
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** Returns a function that removes the handler. */
  onMessage(handler: MessageHandler): () => void {
    return this.messageListeners.add(handler);
  }

  /** Subscribes now (resolves on the broker's acknowledgement) and again on every reconnect. */
  subscribe(topics: readonly string[]): Promise<void> {
    topics.forEach((t) => this.subscriptions.add(t));
    const client = this.client;
    if (!client?.connected) return Promise.reject(new OfflineError(topics.join(", ")));
    return subscribeRetrying(client, [...topics], this.opts.log, this.opts.clock);
  }

  /** Runs after `online` on each (re)connect. */
  onConnect(handler: () => void): void {
    this.connectListeners.add(handler);
  }

  /** Runs each time the connection is lost (or closed). */
  onClose(handler: () => void): void {
    this.closeListeners.add(handler);
  }

  /**
   * Starts connecting, and resolves at the first connection or as soon as the first attempt finds no
   * broker: the node works offline (records, journals) and keeps trying every reconnect period. A
   * broker that answers with a refusal (credentials, authorization) at the first attempt fails the
   * start: that is a configuration to fix, not an outage. A refusal of MQTT 5 switches to 3.1.1,
   * whenever it comes.
   */
  start(): Promise<void> {
    if (this.client) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.firstOutcome = { resolve, reject };
      this.connectWith(5);
    });
  }

  private settle(err?: unknown): void {
    const outcome = this.firstOutcome;
    this.firstOutcome = null;
    if (!outcome) return;
    if (err) outcome.reject(err);
    else outcome.resolve();
  }

  private connectWith(version: 4 | 5): void {
    const { opts, brokers } = this;
    this.version = version;
    const connect = opts.connect ?? mqtt.connect;
    const client = connect(brokers.url, {
      // Each (re)connection tries the next member of a cluster (MQTT.js's round robin).
      ...(brokers.members.length > 1 ? { servers: brokers.members } : {}),
      // A member that refuses (a cluster electing its leaders answers "server unavailable" for a
      // while) is tried again, not given up; a refusal at the first attempt is handled below.
      reconnectOnConnackError: true,
      clientId: opts.clientId,
      protocolVersion: version,
      clean: true,
      // We subscribe on every connect ourselves: MQTT.js's own resubscription waits until its offline
      // queue is drained, and it skips subscribe() of topics it believes active (mqttjs/MQTT.js#875),
      // so a node with queued batch events could sit deaf to commands after a broker restart.
      resubscribe: false,
      reconnectPeriod: opts.reconnectPeriodMs ?? 2000,
      ...(opts.keepaliveS !== undefined ? { keepalive: opts.keepaliveS } : {}),
      connectTimeout: 10_000,
      // Never queue QoS 0 silently; and keep no copy of QoS 1 messages (no-store.ts): what must
      // survive a disconnect is the outbox's to resend, and latest-value messages are sent afresh.
      queueQoSZero: false,
      outgoingStore: new NoStore(),
      ...(opts.availabilityTopic
        ? { will: { topic: opts.availabilityTopic, payload: Buffer.from("offline"), qos: 1, retain: true } }
        : {}),
      ...opts.security,
    });
    this.client = client;
    client.on("connect", () => {
      const { protocol, host, port } = client.options;
      const member = brokers.members.length > 1 ? { member: `${protocol}://${host}:${port}` } : {};
      opts.log.info({ url: redactUrl(opts.url), ...member, version }, "mqtt connected");
      const subscribed = (err?: Error | null): void => {
        if (err) opts.log.error({ err }, "subscribe failed");
        // `online` only once the broker has confirmed our command subscriptions: a controller that
        // waits for it knows its commands reach this node (a command before that would be dropped).
        if (opts.availabilityTopic)
          void this.publish(opts.availabilityTopic, "online", { qos: 1, retain: true }).catch((e: unknown) =>
            opts.log.warn({ err: e }, "online not published"),
          );
        this.connectListeners.emit();
        this.settle();
      };
      if (this.subscriptions.size === 0) return subscribed();
      subscribeRetrying(client, [...this.subscriptions], opts.log, opts.clock).then(
        () => subscribed(),
        (err: Error) => subscribed(err),
      );
    });
    client.on("message", (topic, payload, packet) => {
      this.messageListeners.emit(topic, payload, packet);
    });
    client.on("error", (err) => {
      if (version === 5 && isProtocolRefusal(err)) {
        opts.log.info("broker refused MQTT 5, using 3.1.1");
        client.end(true);
        if (this.client === client) this.connectWith(4);
        return;
      }
      if (isConfigRefusal(err) && this.firstOutcome) {
        // Refused at the very first answer: credentials or authorization to fix, not an outage.
        this.client = null;
        client.end(true);
        this.settle(err);
        return;
      }
      opts.log.warn({ err }, "mqtt error");
    });
    client.on("offline", () => opts.log.warn("mqtt offline"));
    client.on("close", () => {
      // With no store there is no resend: what awaited an acknowledgement fails now (its callback
      // gets "Message removed"), so the owner can send it again, and end() does not wait for it.
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      this.closeListeners.emit();
      // The first attempt found no broker: go on offline, the client keeps trying.
      if (this.client === client && this.firstOutcome && opts.workOffline !== false) {
        opts.log.warn({ url: redactUrl(opts.url) }, "broker not reachable: working offline, retrying");
        this.settle();
      }
    });
    client.on("reconnect", () => opts.log.debug("mqtt reconnecting"));
  }

  /**
   * Resolves on the broker's acknowledgement (QoS 1); rejects at once while offline, and when the
   * connection closes before the acknowledgement. Nothing is queued or resent here: a caller that
   * must deliver (the outbox) sends again after the next connect.
   */
  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new OfflineError(topic));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Publishes retained `offline`, then disconnects cleanly (which discards the will). Idempotent. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    // A start still waiting for its broker (workOffline false) ends here.
    if (this.opts.workOffline === false)
      this.settle(new OfflineError("connection stopped before the broker answered"));
    const availability = this.opts.availabilityTopic;
    if (client.connected && availability) {
      await new Promise<void>((resolve) =>
        client.publish(availability, "offline", { qos: 1, retain: true }, () => resolve()),
      );
    }
    // Offline, nothing can be acknowledged any more: end at once instead of waiting for it.
    await client.endAsync(!client.connected);
  }
}

/**
 * QoS 1 subscriptions, tried again (1 s apart, 5 tries in all) while the broker refuses them: a
 * clustered broker (NATS) answers "unspecified error" while its stream store is busy or electing.
 * Rejects with the last refusal, or at once when the connection is gone.
 */
async function subscribeRetrying(
  client: MqttClient,
  topics: string[],
  log: Logger,
  clock: Clock,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.subscribeAsync(topics, { qos: 1 });
      return;
    } catch (err) {
      if (attempt >= 5 || !client.connected) throw err;
      log.warn({ err, attempt }, "subscription refused, trying again");
      await sleep(clock, 1000);
    }
  }
}

/**
 * A CONNACK that says the configuration is wrong: the client identifier (2, 133), credentials and
 * authorization (4, 5, 134, 135, 140), a banned client (138). Not "server unavailable" (3, 136) or
 * "busy" (137): those pass.
 */
function isConfigRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && [2, 4, 5, 133, 134, 135, 138, 140].includes(code);
}

function isProtocolRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // 1: 3.1.1 "unacceptable protocol version"; 132: MQTT 5 "Unsupported Protocol Version".
  return code === 1 || code === 132;
}
