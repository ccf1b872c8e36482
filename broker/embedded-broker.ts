import { Aedes } from "aedes";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import type { Logger } from "pino";
import { WebSocketServer, createWebSocketStream } from "ws";
import type { AnonymousAccess } from "./access.js";
import { installAdmission } from "./admission.js";
import { installConformance } from "./conformance.js";
import type { AuthUser } from "./auth-file.js";
import { ConnectionLimits, DEFAULT_BROKER_LIMITS, type BrokerLimits } from "./connection-limits.js";
import { verifyPassword } from "./password.js";

export interface BrokerOptions {
  port: number;
  host: string;
  log: Logger;
  /** The users who may log in (an --auth-file, or the lab's generated logins); none: anonymous clients only. */
  users?: ReadonlyMap<string, Readonly<AuthUser>> | null;
  /** Who may connect without a user name (access.ts); default: no one where there are users, else processes on this machine. */
  anonymous?: AnonymousAccess;
  /** Base topic the rules are written for. */
  baseTopic?: string;
  /** An MQTT-over-TLS listener (PEM contents). */
  tls?: { port: number; cert: Buffer; key: Buffer } | null;
  /** An MQTT-over-WebSocket listener (path /, as browsers and Node-RED expect). */
  wsPort?: number | null;
  limits?: BrokerLimits;
  /** Monotonic milliseconds, for the connect rate. */
  monotonicMs: () => number;
}

/** A scrypt hash of a random password no one knows: what an unknown user name is checked against. */
const DECOY_HASH = "scrypt$16384$8$1$bGFieC1kZWNveS1zYWx0$0J8qW9d2Fh3m5Yc6o1vX7k0QeXb4lWc2s8gA1rT5nHk=";

/**
 * Pure: aedes 2's MQTT 5 options, told to every v5 client in its CONNACK. A keepalive over the limit (or
 * none) becomes the limit for a v5 client (Server Keep Alive) and is refused to a 3.1.1 client, so a dead
 * client's will comes within 1.5 times it. A packet over the limit gets
 * a v5 client a DISCONNECT 0x95 and a 3.1.1 client a closed connection, read at its header (aedes does
 * not buffer the rest); topic aliases from clients are taken (10 a connection); the QoS 1/2 window a
 * client may keep open, the session expiry a client may ask, and the sessions and delayed wills kept
 * waiting are bounded.
 */
export function mqtt5Options(limits: BrokerLimits) {
  return {
    maximumPacketSize: limits.maxPacketBytes,
    keepaliveLimit: limits.maxKeepaliveS,
    topicAliasMaximum: 10,
    receiveMaximum: 100,
    sessionExpiryIntervalLimit: 7 * 24 * 3600,
    pendingSessionsLimit: 10_000,
  };
}

/**
 * The embedded aedes broker (MQTT 5 and 3.1.1): TCP, and optionally TLS and WebSocket listeners, all
 * under the same users, rules and limits. start() resolves with the bound TCP port.
 */
export class EmbeddedBroker {
  private broker: Aedes | null = null;
  private readonly servers: Server[] = [];
  private wss: WebSocketServer | null = null;
  private limits: ConnectionLimits | null = null;
  /** Where each client's connection came from (aedes' client.conn is the stream it was handed). */
  private readonly addresses = new WeakMap<object, string>();
  private readonly ports = new Map<string, number>();

  constructor(private readonly opts: BrokerOptions) {}

  get port(): number | null {
    return this.ports.get("tcp") ?? null;
  }

  /** Bound port of each listener: tcp, tls, ws. */
  portOf(listener: "tcp" | "tls" | "ws"): number | null {
    return this.ports.get(listener) ?? null;
  }

  private get anonymous(): AnonymousAccess {
    return this.opts.anonymous ?? (this.opts.users?.size ? "never" : "loopback");
  }

  async start(): Promise<number> {
    if (this.broker) return this.port!;
    const { log } = this.opts;
    const configured = this.opts.limits ?? DEFAULT_BROKER_LIMITS;
    const broker = await Aedes.createBroker(mqtt5Options(configured));
    installAdmission(broker, {
      users: this.opts.users ?? new Map(),
      anonymous: this.anonymous,
      baseTopic: this.opts.baseTopic ?? "labx",
      log,
      addressOf: (c) => this.addresses.get(c.conn as object),
      verify: verifyPassword,
      decoyHash: DECOY_HASH,
    });
    installConformance(broker, log);
    broker.on("client", (c) => log.debug({ client: c.id }, "client connected"));
    broker.on("clientDisconnect", (c) => log.debug({ client: c.id }, "client disconnected"));
    broker.on("clientError", (c, err) => log.debug({ client: c.id, err }, "client error"));
    this.broker = broker;
    const limits = new ConnectionLimits(configured, this.opts.monotonicMs, log);
    this.limits = limits;
    const handle = (stream: Duplex, address: string | undefined): void => {
      if (!limits.admit(stream, address)) return;
      if (address !== undefined) this.addresses.set(stream, address);
      broker.handle(stream as never);
    };
    const onSocket = (s: Socket): void => handle(s, s.remoteAddress);
    await this.listen("tcp", createServer(onSocket), this.opts.port);
    if (this.opts.tls) {
      const tls = createTlsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, onSocket);
      await this.listen("tls", tls, this.opts.tls.port);
    }
    if (this.opts.wsPort !== null && this.opts.wsPort !== undefined) {
      const http = createHttpServer();
      this.wss = new WebSocketServer({ server: http, maxPayload: configured.maxPacketBytes });
      this.wss.on("connection", (ws, req) => handle(createWebSocketStream(ws), req.socket.remoteAddress));
      await this.listen("ws", http, this.opts.wsPort);
    }
    log.info(
      {
        host: this.opts.host,
        ports: Object.fromEntries(this.ports),
        users: this.opts.users?.size ?? 0,
        anonymous: this.anonymous,
      },
      "embedded broker listening",
    );
    return this.port!;
  }

  private async listen(name: string, server: Server, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.servers.push(server);
    const addr = server.address();
    if (addr && typeof addr === "object") this.ports.set(name, addr.port);
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    if (!broker) return;
    this.broker = null;
    await new Promise<void>((r) => broker.close(() => r()));
    this.limits?.destroyAll();
    this.limits = null;
    this.wss?.close();
    this.wss = null;
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.ports.clear();
    this.opts.log.info("embedded broker closed");
  }
}
