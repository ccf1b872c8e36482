// The dashboard's logins. Each is its own MQTT connection, made with the credentials typed into the
// page (or none, where the broker allows anonymous clients): the broker decides who may log in and
// what each may publish, as for any other client. The password stays in that connection's memory.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";
import type { MqttConnection } from "../platform/mqtt/connection.js";
import type { Validators } from "../contract/schemas.js";
import { Listeners } from "../platform/listeners.js";
import type { Clock } from "../platform/clock.js";
import { dashboardTopics, DEFAULT_LIMITS, FleetCache, type UiMessage } from "./fleet-cache.js";

export interface Login {
  readonly token: string;
  /** The broker user name; null: anonymous. */
  readonly user: string | null;
  /** False for a viewer (the monitor role), or once the broker refused this login a command. */
  canCommand: boolean;
  readonly connection: MqttConnection;
  readonly cache: FleetCache;
  /** Adds a listener for the live messages, `end` called if the login is closed first; returns its removal. */
  listen(fn: (m: UiMessage) => void, end: () => void): () => void;
  /** Event streams open on this login. */
  readonly streams: number;
  lastUsed: number;
}

export interface LoginsOptions {
  baseTopic: string;
  validators: Validators;
  /** TLS material for the broker; user names and passwords come from each login. */
  security: ClientSecurity;
  /** Opens one login's connection (platform/mqtt/visitor.ts's connectVisitor). */
  connect: (security: ClientSecurity) => Promise<MqttConnection>;
  /** The role a user name has where the dashboard knows the broker's users (--auth-file). */
  roleOf: ((user: string) => string | undefined) | null;
  /** A login with no open page for this long is closed (ms). */
  idleMs: number;
  /** Logins open at most; a new one closes the least recently used. */
  maxLogins: number;
  /** Nodes one login's cache remembers (fleet-cache.ts). */
  maxNodes: number;
  log: Logger;
  clock: Clock;
}

const COMMANDING_ROLES = ["controller", "admin"];

export class Logins {
  private readonly logins = new Map<string, Login & { streams: number; close(): Promise<void> }>();
  private sweeper: unknown = null;

  constructor(private readonly o: LoginsOptions) {}

  private get clock(): Clock {
    return this.o.clock;
  }

  start(): void {
    this.sweeper ??= this.clock.setInterval(() => void this.sweep(), 60_000, { unref: true });
  }

  async stop(): Promise<void> {
    if (this.sweeper !== null) this.clock.clearInterval(this.sweeper);
    this.sweeper = null;
    await Promise.all([...this.logins.values()].map((l) => l.close()));
    this.logins.clear();
  }

  get(token: string | undefined): Login | undefined {
    const login = token ? this.logins.get(token) : undefined;
    if (login) login.lastUsed = this.clock.now();
    return login;
  }

  /**
   * Connects as this user (refusals from the broker are thrown as they come) and opens a login; at the
   * cap, the least recently used login is closed first.
   */
  async open(user: string | null, password: string | null): Promise<Login> {
    const connection = await this.o.connect({
      ...this.o.security,
      ...(user !== null ? { username: user } : {}),
      ...(password !== null ? { password } : {}),
    });
    const cache = new FleetCache(this.o.baseTopic, this.o.validators, {
      ...DEFAULT_LIMITS,
      nodes: this.o.maxNodes,
    });
    const listeners = new Listeners<[UiMessage]>(this.o.log, "dashboard stream");
    connection.onMessage((topic, payload) => {
      const m = cache.apply(topic, payload, this.clock.now());
      if (m) listeners.emit(m);
    });
    try {
      await connection.subscribe(dashboardTopics(this.o.baseTopic));
    } catch (err) {
      await connection.stop();
      throw err;
    }
    const role = user !== null ? this.o.roleOf?.(user) : undefined;
    const token = randomBytes(24).toString("base64url");
    const enders = new Set<() => void>();
    const login = {
      token,
      user,
      // An anonymous login got this far only where anonymous clients are taken (login-guard.ts, the
      // broker): the broker decides what it may publish, as for a user whose role the dashboard cannot know.
      canCommand:
        user === null || this.o.roleOf === null || (role !== undefined && COMMANDING_ROLES.includes(role)),
      connection,
      cache,
      streams: 0,
      lastUsed: this.clock.now(),
      listen: (fn: (m: UiMessage) => void, end: () => void) => {
        login.streams++;
        const off = listeners.add(fn);
        enders.add(end);
        return () => {
          login.streams--;
          login.lastUsed = this.clock.now();
          enders.delete(end);
          off();
        };
      },
      close: async () => {
        for (const end of [...enders]) end();
        await connection.stop();
      },
    };
    await this.makeRoom();
    this.logins.set(token, login);
    this.o.log.info({ user: user ?? "(anonymous)", can_command: login.canCommand }, "dashboard login");
    return login;
  }

  async close(token: string): Promise<void> {
    const login = this.logins.get(token);
    this.logins.delete(token);
    await login?.close();
  }

  /** At the cap, the least recently used login goes (its pages are closed; they ask for a login again). */
  private async makeRoom(): Promise<void> {
    await this.sweep();
    while (this.logins.size >= this.o.maxLogins) {
      const [token, oldest] = [...this.logins].reduce((a, b) => (b[1].lastUsed < a[1].lastUsed ? b : a));
      this.o.log.info(
        { user: oldest.user ?? "(anonymous)" },
        "dashboard login closed: the least recently used, at the cap",
      );
      await this.close(token);
    }
  }

  private async sweep(): Promise<void> {
    const now = this.clock.now();
    for (const [token, l] of this.logins)
      if (l.streams === 0 && now - l.lastUsed > this.o.idleMs) await this.close(token);
  }
}
