// The dashboard's HTTP(S) server: the page and its files, the logins, a server-sent event stream of
// what each login's MQTT connection hears, the latest preview images, and commands. The page never
// talks to the broker itself, so the dashboard works with any broker, WebSocket listener or not.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Validators } from "../contract/schemas.js";
import type { Unit } from "../platform/units.js";
import { sendCommand } from "../platform/control/send-command.js";
import { isName } from "../contract/names.js";
import { BadRequestError, parseCommandRequest } from "./command-request.js";
import { loadStaticFiles, type StaticFile } from "./static-files.js";
import type { Login, Logins } from "./logins.js";
import { hostAllowed } from "./host-allowlist.js";
import type { LoginGuard } from "./login-guard.js";
import { redactUrl } from "../platform/secrets.js";
import type { Clock } from "../platform/clock.js";
import type { TimerHandle } from "../platform/timers.js";
import { checkOrigin, HEADERS, HttpError, readJson } from "./http.js";

export interface UiServerOptions {
  /** The process's time port (platform/clock.ts): stream pings, command times and timeouts. */
  clock: Clock;
  port: number;
  host: string;
  tls: { cert: Buffer; key: Buffer } | null;
  baseTopic: string;
  /** Null: the time code page alone (`labx timecode`), no broker. */
  logins: Logins | null;
  /** Rate and anonymous rules for logins (login-guard.ts). */
  loginGuard: LoginGuard | null;
  /** Names this machine answers to (ownHostNames() and --ui-allowed-hosts), looked up again on a miss. */
  allowedHosts: () => ReadonlySet<string>;
  /** Event streams one login may hold open (a page each). */
  maxStreamsPerLogin: number;
  /** An event stream whose client reads slower than this many bytes behind is closed (the page reconnects). */
  maxStreamBacklogBytes: number;
  /** Said on the page: the broker and dashboard take anonymous clients from every host. */
  openToAnonymous: boolean;
  /** Wall-clock µs, for /api/time (the time code page's clock). */
  nowUs?: () => number;
  validators: Validators;
  /** How long a command waits for every addressed node's reply (ms). */
  commandTimeoutMs: number;
  /** The clock plot's line: pairwise offsets above it are out of sync (ms). */
  syncThresholdMs: number;
  log: Logger;
}

const COOKIE = "labx_ui";
export class UiServer implements Unit {
  readonly name = "dashboard";
  private server: http.Server | null = null;
  private files: Map<string, StaticFile> | null = null;
  private readonly streams = new Set<ServerResponse>();
  private hosts: ReadonlySet<string> = new Set();

  constructor(private readonly o: UiServerOptions) {}

  /** The dashboard's address once listening (0.0.0.0 shown as the host's loopback name). */
  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error("the dashboard is not listening");
    const host = a.address === "0.0.0.0" || a.address === "::" ? "localhost" : a.address;
    return `${this.o.tls ? "https" : "http"}://${host}:${a.port}/`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.files = loadStaticFiles(this.o.logins === null);
    this.hosts = this.o.allowedHosts();
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = this.o.tls ? https.createServer({ ...this.o.tls }, handler) : http.createServer(handler);
    this.server = server;
    this.o.logins?.start();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.o.log.info({ url: this.url }, "dashboard ready");
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await this.o.logins?.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Before anything is served or read: a page under a foreign name (DNS rebinding) gets nothing.
      if (!this.hostKnown(req.headers.host))
        throw new HttpError(
          421,
          "UNKNOWN_HOST",
          "this dashboard does not answer to that host name (--ui-allowed-hosts)",
        );
      const url = new URL(req.url ?? "/", "http://dashboard");
      const route = `${req.method} ${url.pathname}`;
      if (req.method === "GET" && this.files?.has(url.pathname))
        return this.file(res, this.files.get(url.pathname)!);
      if (req.method === "POST") checkOrigin(req);
      switch (route) {
        case "POST /api/login":
          return await this.login(req, res);
        case "POST /api/logout":
          return await this.logout(req, res);
        case "GET /api/time":
          return this.json(res, 200, { now_us: Math.round(this.nowUs()) });
        case "GET /api/me":
          return this.json(res, 200, this.me(this.login_(req)));
        case "GET /api/stream":
          return this.stream(req, res, this.login_(req));
        case "POST /api/command":
          return await this.command(req, res, this.login_(req));
      }
      const preview = /^\/api\/preview\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && preview) return this.preview(res, this.login_(req), preview[1]!);
      throw new HttpError(404, "NOT_FOUND", "no such page");
    } catch (err) {
      if (err instanceof HttpError) return this.json(res, err.status, { code: err.code, error: err.message });
      this.o.log.error({ err }, "dashboard request failed");
      this.json(res, 500, { code: "INTERNAL", error: "the dashboard failed; see its log" });
    }
  }

  private hostKnown(header: string | undefined): boolean {
    if (hostAllowed(header, this.hosts)) return true;
    // The machine may have gained an address since (DHCP, a new interface): look once more.
    this.hosts = this.o.allowedHosts();
    return hostAllowed(header, this.hosts);
  }

  private file(res: ServerResponse, f: StaticFile): void {
    res.writeHead(200, { ...HEADERS, "content-type": f.type, "cache-control": "no-cache" });
    res.end(f.body);
  }

  private json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    if (res.headersSent) return void res.end();
    res.writeHead(status, {
      ...HEADERS,
      "content-type": "application/json",
      "cache-control": "no-store",
      ...extra,
    });
    res.end(JSON.stringify(body));
  }

  private logins(): Logins {
    if (!this.o.logins) throw new HttpError(404, "NOT_FOUND", "this server shows the time code only");
    return this.o.logins;
  }

  private nowUs(): number {
    return this.o.nowUs ? this.o.nowUs() : (performance.timeOrigin + performance.now()) * 1000;
  }

  private login_(req: IncomingMessage): Login {
    const token = /(?:^|;\s*)labx_ui=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? "")?.[1];
    const login = this.logins().get(token);
    if (!login) throw new HttpError(401, "UNAUTHORIZED", "log in first");
    return login;
  }

  private me(login: Login): unknown {
    return {
      user: login.user,
      can_command: login.canCommand,
      sync_threshold_ms: this.o.syncThresholdMs,
      open_to_anonymous: this.o.openToAnonymous,
    };
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJson(req)) as { username?: unknown; password?: unknown };
    const user = typeof body.username === "string" && body.username !== "" ? body.username : null;
    const password = typeof body.password === "string" && body.password !== "" ? body.password : null;
    const verdict = this.o.loginGuard?.check(req.socket.remoteAddress, user === null) ?? { ok: true };
    if (!verdict.ok) {
      this.o.log.warn({ address: req.socket.remoteAddress, code: verdict.code }, "dashboard login refused");
      return this.json(
        res,
        verdict.status,
        { code: verdict.code, error: verdict.message },
        verdict.retryAfterS ? { "retry-after": String(verdict.retryAfterS) } : {},
      );
    }
    let login: Login;
    try {
      login = await this.logins().open(user, password);
    } catch (err) {
      const refused = typeof (err as { code?: unknown }).code === "number";
      const why = redactUrl((err as Error).message);
      this.o.log.warn({ user: user ?? "(anonymous)", err: why }, "dashboard login refused");
      throw refused
        ? new HttpError(
            401,
            "UNAUTHORIZED",
            user ? "the broker refused this user name or password" : "the broker wants a login",
          )
        : new HttpError(502, "BROKER", `the broker cannot be reached: ${why}`);
    }
    const cookie = `${COOKIE}=${login.token}; HttpOnly; SameSite=Strict; Path=/${this.o.tls ? "; Secure" : ""}`;
    this.json(res, 200, this.me(login), { "set-cookie": cookie });
  }

  private async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const login = this.login_(req);
    await this.logins().close(login.token);
    this.json(res, 200, {}, { "set-cookie": `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
  }

  /** Server-sent events: everything the login's cache holds, then each message as it comes. */
  private stream(req: IncomingMessage, res: ServerResponse, login: Login): void {
    if (login.streams >= this.o.maxStreamsPerLogin)
      throw new HttpError(429, "TOO_MANY_STREAMS", "this login has too many pages open; close one");
    res.writeHead(200, { ...HEADERS, "content-type": "text/event-stream", "cache-control": "no-store" });
    this.streams.add(res);
    let off: (() => void) | null = null;
    const { clock } = this.o;
    let ping: TimerHandle | null = null;
    const end = (): void => {
      if (ping !== null) clock.clearInterval(ping);
      off?.();
      off = ping = null;
      this.streams.delete(res);
    };
    // A page that reads slower than the fleet speaks is cut off rather than buffered without end; its
    // EventSource reconnects and gets the latest state again. The replay (bounded by the cache) is
    // allowed for on top of the limit.
    let replayBytes = 0;
    const write = (text: string): void => {
      if (res.destroyed) return;
      if (res.writableLength > this.o.maxStreamBacklogBytes + replayBytes) {
        this.o.log.warn(
          { user: login.user, behind: res.writableLength },
          "dashboard stream too slow: closed",
        );
        end();
        res.destroy();
        return;
      }
      res.write(text);
    };
    const event = (m: unknown): string => `data: ${JSON.stringify(m)}\n\n`;
    const replay = login.cache.replay().map(event).join("") + `event: ready\ndata: {}\n\n`;
    replayBytes = Buffer.byteLength(replay);
    res.write(replay);
    const send = (m: unknown): void => write(event(m));
    off = login.listen(send, () => res.end());
    ping = clock.setInterval(() => write(": ping\n\n"), 20_000, { unref: true });
    req.on("close", end);
  }

  private preview(res: ServerResponse, login: Login, node: string): void {
    const jpeg = isName(node) ? login.cache.preview(node) : undefined;
    if (!jpeg) throw new HttpError(404, "NOT_FOUND", "no preview from this node");
    res.writeHead(200, { ...HEADERS, "content-type": "image/jpeg", "cache-control": "no-store" });
    res.end(jpeg);
  }

  private async command(req: IncomingMessage, res: ServerResponse, login: Login): Promise<void> {
    if (!login.canCommand) throw new HttpError(403, "FORBIDDEN", "this login may watch but not command");
    let request;
    try {
      request = parseCommandRequest(await readJson(req), this.o.validators, this.o.clock.now());
    } catch (err) {
      if (err instanceof BadRequestError) throw new HttpError(400, "BAD_REQUEST", err.message);
      throw err;
    }
    try {
      const result = await sendCommand(login.connection, {
        baseTopic: this.o.baseTopic,
        ...request,
        timeoutMs: this.o.commandTimeoutMs,
        settleMs: 300,
        validators: this.o.validators,
        clock: this.o.clock,
      });
      this.o.log.info(
        { user: login.user, target: request.target, cmd: request.command.cmd, ok: result.ok },
        "command",
      );
      this.json(res, 200, result);
    } catch (err) {
      // MQTT 5 brokers refuse an unauthorized publish in its acknowledgement (135); 3.1.1 ones close the connection.
      const code = (err as { code?: unknown }).code;
      if (code === 135 || /not authori[sz]ed/i.test((err as Error).message)) {
        login.canCommand = false;
        throw new HttpError(403, "FORBIDDEN", "the broker does not let this login send commands");
      }
      if (/removed/i.test((err as Error).message))
        throw new HttpError(
          502,
          "BROKER",
          "the broker closed the connection on this command: this login may not be allowed to command, or the broker went away",
        );
      throw new HttpError(502, "BROKER", `the command was not sent: ${(err as Error).message}`);
    }
  }
}
