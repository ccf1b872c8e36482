// The dashboard's logins. Each is its own MQTT connection, made with the credentials typed into the
// page (or none, where the broker allows anonymous clients): the broker decides who may log in and
// what each may publish, as for any other client. The password stays in that connection's memory.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";
import type { MqttConnection } from "../platform/mqtt/connection.js";
import type { Validators } from "../contract/schemas.js";
import { Listeners } from "../platform/listeners.js";
import { realTimers, type Timers } from "../platform/timers.js";
import { dashboardTopics, FleetCache, type UiMessage } from "./fleet-cache.js";

export interface Login {
  readonly token: string;
  /** The broker user name; null: anonymous. */
  readonly user: string | null;
  /** False for a viewer (the monitor role), or once the broker refused this login a command. */
  canCommand: boolean;
  readonly connection: MqttConnection;
  readonly cache: FleetCache;
  /** Adds a listener for the live messages; returns its removal. */
  listen(fn: (m: UiMessage) => void): () => void;
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
  maxLogins: number;
  log: Logger;
  timers?: Timers;
}

export class TooManyLoginsError extends Error {}

const COMMANDING_ROLES = ["controller", "admin"];

export class Logins {
  private readonly logins = new Map<string, Login & { streams: number; close(): Promise<void> }>();
  private sweeper: unknown = null;

  constructor(private readonly o: LoginsOptions) {}

  private get timers(): Timers {
    return this.o.timers ?? realTimers;
  }

  start(): void {
    this.sweeper ??= this.timers.setInterval(() => void this.sweep(), 60_000, { unref: true });
  }

  async stop(): Promise<void> {
    if (this.sweeper !== null) this.timers.clearInterval(this.sweeper);
    this.sweeper = null;
    await Promise.all([...this.logins.values()].map((l) => l.close()));
    this.logins.clear();
  }

  get(token: string | undefined): Login | undefined {
    const login = token ? this.logins.get(token) : undefined;
    if (login) login.lastUsed = Date.now();
    return login;
  }

  /** Connects as this user (refusals from the broker are thrown as they come) and opens a login. */
  async open(user: string | null, password: string | null): Promise<Login> {
    if (this.logins.size >= this.o.maxLogins) await this.sweep();
    if (this.logins.size >= this.o.maxLogins) throw new TooManyLoginsError("too many dashboard logins open");
    const connection = await this.o.connect({
      ...this.o.security,
      ...(user !== null ? { username: user } : {}),
      ...(password !== null ? { password } : {}),
    });
    const cache = new FleetCache(this.o.baseTopic, this.o.validators);
    const listeners = new Listeners<[UiMessage]>(this.o.log, "dashboard stream");
    connection.onMessage((topic, payload) => {
      const m = cache.apply(topic, payload, Date.now());
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
    const login = {
      token,
      user,
      canCommand: this.o.roleOf === null || (role !== undefined && COMMANDING_ROLES.includes(role)),
      connection,
      cache,
      streams: 0,
      lastUsed: Date.now(),
      listen: (fn: (m: UiMessage) => void) => {
        login.streams++;
        const off = listeners.add(fn);
        return () => {
          login.streams--;
          login.lastUsed = Date.now();
          off();
        };
      },
      close: () => connection.stop(),
    };
    this.logins.set(token, login);
    this.o.log.info({ user: user ?? "(anonymous)", can_command: login.canCommand }, "dashboard login");
    return login;
  }

  async close(token: string): Promise<void> {
    const login = this.logins.get(token);
    this.logins.delete(token);
    await login?.close();
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const [token, l] of this.logins)
      if (l.streams === 0 && now - l.lastUsed > this.o.idleMs) await this.close(token);
  }
}
