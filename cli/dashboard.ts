// Wiring of the dashboard (ui/): for `labx ui`, and for a node started with --ui-port.
import { spawn } from "node:child_process";
import { lanAddresses, ownHostNames } from "../platform/net/addresses.js";
import { splitList } from "../platform/config/config-schema.js";
import { withoutUserInfo } from "../platform/secrets.js";
import { LoginGuard } from "../ui/login-guard.js";
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import { clientSecurity, SecurityConfigError } from "../platform/mqtt/client-security.js";
import { readCertificatePair } from "../platform/config/config-files.js";
import { connectVisitor } from "../platform/mqtt/visitor.js";
import { createValidators } from "../contract/schemas.js";
import { loadAuthFile } from "../broker/auth-file.js";
import { Logins } from "../ui/logins.js";
import { UiServer } from "../ui/ui-server.js";
import { systemClock, type Clock } from "../platform/clock.js";
import type { Environment } from "../platform/config/environment.js";

export const DEFAULT_UI_PORT = 8080;

/** The dashboard's certificate and key, read at start (a missing file is a configuration error). */
function uiTls(config: Config): { cert: Buffer; key: Buffer } | null {
  return readCertificatePair(
    { option: "ui_tls_cert", file: config.ui_tls_cert },
    { option: "ui_tls_key", file: config.ui_tls_key },
  );
}

/** The dashboard for the broker at config.broker_url, on config.ui_port (8080 when not given). */
export function createDashboard(config: Config, log: Logger, clock: Clock): UiServer {
  const validators = createValidators();
  // The process's own broker login is never lent to a browser: each page logs in as its user.
  const security = clientSecurity(config);
  const tls = { ...security };
  delete tls.username;
  delete tls.password;
  const users = config.auth_file ? loadAuthFile(config.auth_file) : null;
  const uiLog = log.child({ module: "dashboard" });
  // Nor is a login written into --broker-url: each page connects with exactly what it typed.
  const brokerUrl = withoutUserInfo(config.broker_url);
  const logins = new Logins({
    baseTopic: config.base_topic,
    validators,
    security: tls,
    connect: (security) =>
      connectVisitor({
        url: brokerUrl,
        clientId: `labx-ui-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        security,
        timeoutMs: 5000,
        log: uiLog.child({ module: "mqtt" }),
        clock,
      }),
    roleOf: users ? (user) => users.get(user)?.role : null,
    idleMs: 10 * 60_000,
    maxLogins: 64,
    maxNodes: 256,
    log: uiLog,
    clock,
  });
  if (config.allow_anonymous)
    uiLog.warn(
      "--allow-anonymous: pages from every host may log in without a password and command every node",
    );
  return new UiServer({
    clock,
    port: config.ui_port ?? DEFAULT_UI_PORT,
    host: config.ui_host,
    tls: uiTls(config),
    baseTopic: config.base_topic,
    logins,
    loginGuard: new LoginGuard({
      allowAnonymousRemote: config.allow_anonymous,
      burst: 10,
      perMinute: 10,
      monotonicMs: () => performance.now(),
    }),
    ...pageLimits(config),
    openToAnonymous: config.allow_anonymous,
    validators,
    commandTimeoutMs: 10_000,
    syncThresholdMs: config.ui_sync_threshold_ms,
    log: uiLog,
  });
}

/** What any page served here is held to: the host names it may come under, and its streams. */
function pageLimits(config: Config) {
  const extra = splitList(config.ui_allowed_hosts).map((h) => h.toLowerCase());
  return {
    allowedHosts: () => new Set([...ownHostNames(), ...extra]),
    maxStreamsPerLogin: 8,
    maxStreamBacklogBytes: 4 * 1024 * 1024,
  };
}

/** Starts the dashboard and says where it is (on stderr, for people; the log has it too). */
export async function startDashboard(config: Config, log: Logger, clock: Clock): Promise<UiServer> {
  const ui = createDashboard(config, log, clock);
  await ui.start();
  announce(config, ui, "dashboard");
  return ui;
}

/** Prints where `ui` is, with the machine's LAN addresses when it listens on every interface. */
function announce(config: Config, ui: UiServer, what: string, path = ""): string {
  // On a Pi the dashboard is opened from another machine: name the addresses it can be reached at.
  const port = new URL(ui.url).port;
  const scheme = new URL(ui.url).protocol;
  const lan = config.ui_host === "0.0.0.0" ? lanAddresses().map((a) => `${scheme}//${a}:${port}/`) : [];
  console.error(
    `labx: ${what} at ${ui.url}${path.slice(1)}${lan.length ? ` (on this network: ${lan.map((u) => u + path.slice(1)).join(", ")})` : ""}`,
  );
  return `${ui.url}${path.slice(1)}`;
}

/** `labx ui`: the dashboard alone, for the broker at --broker-url, until a signal. */
export async function runUi(config: Config, log: Logger, until: Promise<NodeJS.Signals>): Promise<number> {
  let ui: UiServer;
  try {
    ui = await startDashboard(config, log, systemClock());
  } catch (err) {
    if (err instanceof SecurityConfigError) throw err;
    console.error(`labx ui: the dashboard could not start: ${(err as Error).message}`);
    return 1;
  }
  const signal = await until;
  log.info({ signal }, "shutting down");
  await ui.stop();
  return 0;
}

/**
 * `labx timecode`: the time code page alone (no broker, no login) on --ui-port, opened in this machine's
 * browser when it has a desktop, until a signal. Point every camera at it, then run `labx verify`.
 */
export async function runTimecode(
  config: Config,
  log: Logger,
  until: Promise<NodeJS.Signals>,
  env: Environment,
): Promise<number> {
  const ui = new UiServer({
    clock: systemClock(),
    port: config.ui_port ?? DEFAULT_UI_PORT,
    host: config.ui_host,
    tls: uiTls(config),
    baseTopic: config.base_topic,
    logins: null,
    loginGuard: null,
    ...pageLimits(config),
    openToAnonymous: false,
    validators: createValidators(),
    commandTimeoutMs: 0,
    syncThresholdMs: config.ui_sync_threshold_ms,
    log: log.child({ module: "timecode" }),
  });
  try {
    await ui.start();
  } catch (err) {
    console.error(`labx timecode: the page could not be served: ${(err as Error).message}`);
    return 1;
  }
  openInBrowser(announce(config, ui, "time code", "/timecode"), env);
  const signal = await until;
  log.info({ signal }, "shutting down");
  await ui.stop();
  return 0;
}

/** xdg-open where a desktop session exists (arguments, never a shell); a headless Pi only prints the address. */
function openInBrowser(url: string, env: Environment): void {
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return;
  const child = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
  child.on("error", () => undefined);
  child.unref();
}
