import { Aedes, type AuthenticateError, type Client } from "aedes";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Logger } from "pino";
import { WebSocketServer, createWebSocketStream } from "ws";
import { mayPublish, maySubscribe } from "./acl.js";
import type { AuthUser } from "./auth-file.js";
import { verifyPassword } from "./password.js";

export interface BrokerOptions {
  port: number;
  host: string;
  log: Logger;
  /** Users from --auth-file; null: anonymous clients allowed, no rules (a lab's closed network). */
  users?: ReadonlyMap<string, Readonly<AuthUser>> | null;
  /** Base topic the rules are written for. */
  baseTopic?: string;
  /** An MQTT-over-TLS listener (PEM contents). */
  tls?: { port: number; cert: Buffer; key: Buffer } | null;
  /** An MQTT-over-WebSocket listener (path /, as browsers and Node-RED expect). */
  wsPort?: number | null;
}

/** Pure: MQTT 3.1.1 [MQTT-3.1.3-8]; MQTT 5 assigns an id instead, whatever Clean Start says. */
export function refusesEmptyClientId(packet: {
  clientId: string;
  clean?: boolean;
  protocolVersion?: number;
}): boolean {
  return packet.clientId === "" && packet.clean === false && (packet.protocolVersion ?? 4) < 5;
}

type ClientWithUser = Client & { labxUser?: Readonly<AuthUser> };

/**
 * The embedded aedes broker (MQTT 3.1.1): TCP, and optionally TLS and WebSocket listeners, all
 * under the same users and rules. start() resolves with the bound TCP port.
 */
export class EmbeddedBroker {
  private broker: Aedes | null = null;
  private readonly servers: Server[] = [];
  private wss: WebSocketServer | null = null;
  private readonly sockets = new Set<{ destroy(): void }>();
  private readonly ports = new Map<string, number>();

  constructor(private readonly opts: BrokerOptions) {}

  get port(): number | null {
    return this.ports.get("tcp") ?? null;
  }

  /** Bound port of each listener: tcp, tls, ws. */
  portOf(listener: "tcp" | "tls" | "ws"): number | null {
    return this.ports.get(listener) ?? null;
  }

  async start(): Promise<number> {
    if (this.broker) return this.port!;
    const { log } = this.opts;
    const broker = await Aedes.createBroker();
    if (this.opts.users) this.enforce(broker, this.opts.users);
    this.conform(broker);
    broker.on("client", (c) => log.debug({ client: c.id }, "client connected"));
    broker.on("clientDisconnect", (c) => log.debug({ client: c.id }, "client disconnected"));
    broker.on("clientError", (c, err) => log.debug({ client: c.id, err }, "client error"));
    this.broker = broker;
    const track = (s: Socket): void => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    };
    await this.listen(
      "tcp",
      createServer((s) => {
        track(s);
        broker.handle(s);
      }),
      this.opts.port,
    );
    if (this.opts.tls) {
      const tls = createTlsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, (s) => {
        track(s);
        broker.handle(s);
      });
      await this.listen("tls", tls, this.opts.tls.port);
    }
    if (this.opts.wsPort !== null && this.opts.wsPort !== undefined) {
      const http = createHttpServer();
      http.on("connection", track);
      this.wss = new WebSocketServer({ server: http });
      this.wss.on("connection", (ws) => broker.handle(createWebSocketStream(ws) as never));
      await this.listen("ws", http, this.opts.wsPort);
    }
    log.info(
      { host: this.opts.host, ports: Object.fromEntries(this.ports), auth: Boolean(this.opts.users) },
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

  /**
   * What aedes 1.x lets through and MQTT 3.1.1 forbids: an empty client id with clean session 0
   * must get CONNACK 0x02 (identifier rejected) and be closed [MQTT-3.1.3-8] (aedes#1095). aedes
   * sends that CONNACK for an authenticate() error with returnCode 2; preConnect sees the packet.
   */
  private conform(broker: Aedes): void {
    const refused = new WeakSet<Client>();
    broker.preConnect = (client, packet, done) => {
      if (refusesEmptyClientId(packet)) refused.add(client);
      done(null, true);
    };
    const authenticate = broker.authenticate.bind(broker);
    broker.authenticate = (client, username, password, done) => {
      if (!refused.has(client)) return authenticate(client, username, password, done);
      this.opts.log.warn("refused: empty client id with clean session 0 (MQTT-3.1.3-8)");
      const err = Object.assign(new Error("identifier rejected: an empty client id needs clean session"), {
        returnCode: 2,
      }) as AuthenticateError;
      done(err, false);
    };
  }

  /** --auth-file: no anonymous client, a password per user, and each user's rules (acl.ts) on every publish and subscribe. */
  private enforce(broker: Aedes, users: ReadonlyMap<string, Readonly<AuthUser>>): void {
    const base = this.opts.baseTopic ?? "labx";
    const log = this.opts.log;
    const refuse = (code: 4 | 5, message: string): AuthenticateError =>
      Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
    broker.authenticate = (client, username, password, done) => {
      const user = username === undefined ? undefined : users.get(username);
      if (!user || !password) {
        log.warn({ client: client.id, username }, "refused: unknown user or no password");
        done(refuse(username === undefined ? 5 : 4, "bad user name or password"), false);
        return;
      }
      verifyPassword(password.toString("utf8"), user.password_hash).then(
        (ok) => {
          if (!ok) log.warn({ client: client.id, username }, "refused: wrong password");
          if (ok) (client as ClientWithUser).labxUser = user;
          done(ok ? null : refuse(4, "bad user name or password"), ok);
        },
        () => done(refuse(4, "bad user name or password"), false),
      );
    };
    broker.authorizePublish = (client, packet, done) => {
      const user = (client as ClientWithUser | null)?.labxUser;
      if (user && mayPublish(user, packet.topic, base)) return done(null);
      log.warn({ client: client?.id, user: user?.username, topic: packet.topic }, "publish refused");
      done(new Error(`not allowed to publish to ${packet.topic}`));
    };
    broker.authorizeSubscribe = (client, sub, done) => {
      const user = (client as ClientWithUser).labxUser;
      if (user && maySubscribe(user, sub.topic, base)) return done(null, sub);
      log.warn({ client: client.id, user: user?.username, topic: sub.topic }, "subscription refused");
      // null: a failure code (0x80) in the SUBACK for this filter; the client stays connected.
      done(null, null);
    };
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    if (!broker) return;
    this.broker = null;
    await new Promise<void>((r) => broker.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.wss?.close();
    this.wss = null;
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.ports.clear();
    this.opts.log.info("embedded broker closed");
  }
}
