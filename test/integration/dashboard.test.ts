/// <reference lib="dom" />
// The dashboard in real Chromium (Debian's, driven by playwright-core) against real nodes, a real
// broker (aedes, ours), real ffmpeg and a real chronyd pair.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { loadAuthFile } from "../../broker/auth-file.js";
import { hashPassword } from "../../broker/password.js";
import { startAedes } from "../helpers/aedes.js";
import { launchChromium, startDashboardFor } from "../helpers/browser.js";
import { startChronyClient, startChronyServer, type Chronyd } from "../helpers/chrony.js";
import { startMosquitto } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, startNode, tempDir, type CliProcess, type RunningNode } from "../helpers/node.js";
import { selfSigned } from "../helpers/tls.js";
import type { UiServer } from "../../ui/ui-server.js";

const card = (page: Page, node: string) => page.locator(`.card[data-node="${node}"]`);

async function imageHash(page: Page, node: string): Promise<{ src: string; sha: string; width: number }> {
  const img = card(page, node).locator("img");
  const src = (await img.getAttribute("src"))!;
  const bytes = await page.evaluate(
    async (u) => [...new Uint8Array(await (await fetch(u)).arrayBuffer())],
    src,
  );
  const width = await img.evaluate((i: HTMLImageElement) => i.naturalWidth);
  return { src, sha: createHash("sha256").update(Buffer.from(bytes)).digest("hex"), width };
}

test("the page lists every node, shows a preview that changes, starts a group with every reply, and shows what it is sent as text", async () => {
  const broker = await startAedes();
  const nodes: RunningNode[] = [];
  let rec: MqttRecorder | undefined;
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    for (const [id, groups] of [
      ["D1", ["cams"]],
      ["D2", ["cams"]],
      ["D3", []],
    ] as const)
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: id,
          groups: [...groups],
          disable_sync: true,
          preview_interval: 1,
          batch_duration: 2,
        }),
      );
    ui = await startDashboardFor({ broker_url: broker.url });
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(ui.url);
    for (const id of ["D1", "D2", "D3"]) await card(page, id).waitFor();
    assert.equal(await page.locator(".card").count(), 3);
    await assert.doesNotReject(
      card(page, "D1").locator('[data-field="availability"]', { hasText: "online" }).waitFor(),
    );

    // Start the group "cams", one second from now, from the page's form.
    await page.selectOption("#target", "cams");
    await page.fill('input[name="session"]', "dash1");
    await page.fill('input[name="start_in_s"]', "1");
    await page.click("#start");
    const table = page.locator('#result table[data-command="start"]');
    await table.waitFor({ timeout: 20_000 });
    const rows = await table
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-node"), tr.getAttribute("data-ok")]));
    assert.deepEqual(
      rows,
      [
        ["D1", "true"],
        ["D2", "true"],
      ],
      "every node of the group replied ok, and only they",
    );
    for (const id of ["D1", "D2"])
      await card(page, id)
        .locator('[data-field="state"]', { hasText: "recording" })
        .waitFor({ timeout: 15_000 });
    assert.equal(await card(page, "D3").locator('[data-field="state"]').textContent(), "idle");
    const started = rec
      .jsonOn<{ session: string; at: string | null }>("labx/D1/state")
      .find((s) => s.session === "dash1");
    assert.ok(started, "D1 recorded session dash1");

    // The preview appears, then changes (a new frame, not the same image reloaded).
    await card(page, "D1").locator("img[src]").waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      (n) => (document.querySelector(`.card[data-node="${n}"] img`) as HTMLImageElement).naturalWidth > 0,
      "D1",
    );
    const first = await imageHash(page, "D1");
    assert.equal(first.width, 640);
    await page.waitForFunction(
      ([n, src]) => document.querySelector(`.card[data-node="${n}"] img`)!.getAttribute("src") !== src,
      ["D1", first.src] as const,
      { timeout: 15_000 },
    );
    const second = await imageHash(page, "D1");
    assert.notEqual(second.sha, first.sha, "the preview shows a newer frame");

    // Whatever arrives is shown as text: a (schema-valid) event whose message is HTML.
    const hostile = '<img src=x id=pwn onerror="document.title=1">';
    await rec.publish(
      "labx/D1/event",
      JSON.stringify({
        node: "D1",
        type: "gap",
        level: "warning",
        at: new Date().toISOString(),
        message: hostile,
      }),
    );
    await page.locator("#events li", { hasText: hostile }).waitFor();
    assert.equal(await page.locator("#events img, #pwn").count(), 0, "no element was made from the message");
    // A payload that fails its schema never reaches the page.
    await rec.publish("labx/D1/event", JSON.stringify({ node: "D1", type: "gap", message: "not valid" }));
    await rec.publish(
      "labx/D1/event",
      JSON.stringify({
        node: "D1",
        type: "gap",
        level: "info",
        at: new Date().toISOString(),
        message: "sentinel",
      }),
    );
    await page.locator("#events li", { hasText: "sentinel" }).waitFor();
    assert.equal(await page.locator("#events li", { hasText: "not valid" }).count(), 0);

    // Batches reach the feed; stop the group from the page.
    await page.locator("#batches li", { hasText: "dash1" }).first().waitFor({ timeout: 15_000 });
    await page.click("#stop");
    await page.locator('#result table[data-command="stop"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#result tbody tr[data-ok="true"]').count(), 2);
    assert.deepEqual(errors, [], "no script error on the page");
  } finally {
    await browser?.close();
    await ui?.stop();
    for (const n of nodes) await n.stop();
    await rec?.close();
    await broker.stop();
  }
});

test("a node killed with kill -9 shows offline (its will, from the broker)", async () => {
  const broker = await startAedes();
  const dir = tempDir();
  let cli: CliProcess | undefined;
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    cli = runCli([
      "node",
      "--broker-url",
      broker.url,
      "--sbc-id",
      "K1",
      "--data-dir",
      dir,
      "--disable-sync",
      "--log-level",
      "warn",
    ]);
    ui = await startDashboardFor({ broker_url: broker.url });
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(ui.url);
    const availability = card(page, "K1").locator('[data-field="availability"]');
    await availability.filter({ hasText: "online" }).waitFor({ timeout: 20_000 });
    cli.child.kill("SIGKILL");
    await availability.filter({ hasText: "offline" }).waitFor({ timeout: 20_000 });
    assert.equal(await card(page, "K1").getAttribute("data-availability"), "offline");
    await page.locator("#summary", { hasText: /^0\/1 online/ }).waitFor();
  } finally {
    cli?.child.kill("SIGKILL");
    await cli?.exited;
    await browser?.close();
    await ui?.stop();
    await broker.stop();
  }
});

test("the fleet clock plot draws every node's offsets from a real chronyd pair, with the pairwise figure", async () => {
  const broker = await startAedes();
  let server: Chronyd | undefined;
  let client: Chronyd | undefined;
  const nodes: RunningNode[] = [];
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startChronyServer();
    client = await startChronyClient(server.port);
    for (const id of ["C1", "C2"])
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: id,
          sync_interval: 1,
          chrony_host: "127.0.0.1",
          chrony_port: client.cmdPort,
        }),
      );
    ui = await startDashboardFor({ broker_url: broker.url, ui_sync_threshold_ms: 0.5 });
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(ui.url);
    await page.waitForFunction(
      () => Number(document.getElementById("plot")!.getAttribute("data-points")) >= 6,
      null,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator("#plot canvas").count(), 1, "uPlot drew the plot");
    const legend = await page.locator("#plot .u-legend .u-series .u-label").allTextContents();
    for (const label of ["C1", "C2", "max pairwise", "threshold"])
      assert.ok(legend.includes(label), `legend ${legend.join(", ")}`);
    // The plotted values are the nodes' own readings (µs), the pairwise line their difference.
    const shown = await card(page, "C1").locator('[data-field="offset"]').textContent();
    assert.match(shown!, /(µs|ms)$/);
    await page
      .locator("#clock-summary", { hasText: /max pairwise offset .* \(threshold 0\.5 ms\)/ })
      .waitFor();
    assert.equal(await page.locator("#no-clock").isHidden(), true);
    await card(page, "C1")
      .locator('[data-field="synced"]', { hasText: "synced" })
      .waitFor({ timeout: 20_000 });
  } finally {
    await browser?.close();
    await ui?.stop();
    for (const n of nodes) await n.stop();
    await client?.stop();
    await server?.stop();
    await broker.stop();
  }
});

test("logins are the broker's: a viewer sees but cannot command, a controller can, over HTTPS", async () => {
  const dir = tempDir();
  const passwords: Record<string, string> = { viewer: "pw-view", lab: "pw-lab", V1: "pw-node" };
  const authFile = path.join(dir, "auth.json");
  writeFileSync(
    authFile,
    JSON.stringify({
      users: [
        { username: "viewer", role: "monitor", password_hash: await hashPassword(passwords.viewer!) },
        { username: "lab", role: "controller", password_hash: await hashPassword(passwords.lab!) },
        { username: "V1", role: "node", password_hash: await hashPassword(passwords.V1!) },
      ],
    }),
  );
  const broker = new EmbeddedBroker({
    port: 0,
    host: "127.0.0.1",
    log: pino({ level: "silent" }),
    monotonicMs: () => performance.now(),
    users: loadAuthFile(authFile),
  });
  let node: RunningNode | undefined;
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    const url = `mqtt://127.0.0.1:${await broker.start()}`;
    node = await startNode({
      broker_url: url,
      sbc_id: "V1",
      broker_username: "V1",
      broker_password: passwords.V1!,
      disable_sync: true,
    });
    const { cert, key } = selfSigned(dir);
    ui = await startDashboardFor({
      broker_url: url,
      auth_file: authFile,
      ui_tls_cert: cert,
      ui_tls_key: key,
    });
    assert.match(ui.url, /^https:/);
    assert.notEqual(readFileSync(cert).length, 0);
    browser = await launchChromium();
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(ui.url);
    // The broker refuses anonymous clients: the page asks for a login.
    await page.locator("#login").waitFor();
    await page.fill('input[name="username"]', "viewer");
    await page.fill('input[name="password"]', "wrong");
    await page.click('#login-form button[type="submit"]');
    await page.locator("#login-error", { hasText: "refused" }).waitFor();

    await page.fill('input[name="username"]', "viewer");
    await page.fill('input[name="password"]', passwords.viewer!);
    await page.click('#login-form button[type="submit"]');
    await page.locator("#who", { hasText: "viewer · view only" }).waitFor();
    await card(page, "V1").waitFor({ timeout: 15_000 });
    assert.equal(await page.locator("#view-only").isVisible(), true);
    assert.equal(await page.locator("#start").isDisabled(), true);
    const cookies = await context.cookies();
    assert.ok(
      cookies.some((c) => c.name === "labx_ui" && c.secure && c.httpOnly),
      "the login cookie is Secure and HttpOnly",
    );
    // Going around the page does not help: the dashboard refuses, and nothing started.
    const forced = await page.evaluate(async () => {
      const r = await fetch("/api/command", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "all", command: { cmd: "start" } }),
      });
      return { status: r.status, body: (await r.json()) as { code: string } };
    });
    assert.deepEqual([forced.status, forced.body.code], [403, "FORBIDDEN"]);
    assert.equal(node.node.state.state, "idle");

    await page.click("#logout");
    await page.locator("#login").waitFor();
    await page.fill('input[name="username"]', "lab");
    await page.fill('input[name="password"]', passwords.lab!);
    await page.click('#login-form button[type="submit"]');
    await page.locator("#who", { hasText: /^lab$/ }).waitFor();
    await card(page, "V1").waitFor({ timeout: 15_000 });
    assert.equal(await page.locator("#start").isDisabled(), false);
    await page.click("#status");
    await page.locator('#result tbody tr[data-node="V1"][data-ok="true"]').waitFor({ timeout: 15_000 });
  } finally {
    await browser?.close();
    await ui?.stop();
    await node?.stop();
    await broker.stop();
  }
});

test("with mosquitto's own ACL (no --auth-file), a login the broker will not let publish commands is told so, and becomes view only", async () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const passwd = path.join(dir, "passwd");
  execFileSync("mosquitto_passwd", ["-b", "-c", passwd, "viewer", "pw-view"]);
  execFileSync("mosquitto_passwd", ["-b", passwd, "lab", "pw-lab"]);
  execFileSync("mosquitto_passwd", ["-b", passwd, "M1", "pw-node"]);
  const acl = path.join(dir, "acl");
  writeFileSync(
    acl,
    "user viewer\ntopic read labx/#\n\nuser lab\ntopic readwrite labx/#\n\nuser M1\ntopic readwrite labx/#\n",
  );
  const broker = await startMosquitto(undefined, { passwordFile: passwd, aclFile: acl });
  let node: RunningNode | undefined;
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    node = await startNode({
      broker_url: broker.url,
      sbc_id: "M1",
      broker_username: "M1",
      broker_password: "pw-node",
      disable_sync: true,
    });
    ui = await startDashboardFor({ broker_url: broker.url });
    browser = await launchChromium();
    const page = await browser.newPage();
    const login = async (user: string, password: string): Promise<void> => {
      await page.locator("#login").waitFor();
      await page.fill('input[name="username"]', user);
      await page.fill('input[name="password"]', password);
      await page.click('#login-form button[type="submit"]');
      await page.locator("#who", { hasText: new RegExp(`^${user}`) }).waitFor();
      await card(page, "M1")
        .locator('[data-field="availability"]', { hasText: "online" })
        .waitFor({ timeout: 15_000 });
    };
    await page.goto(ui.url);
    await login("viewer", "pw-view");
    assert.equal(
      await page.locator("#start").isDisabled(),
      false,
      "the dashboard cannot know mosquitto's ACL in advance",
    );
    await page.click("#status");
    await page.locator('#result .error[data-code="FORBIDDEN"]').waitFor({ timeout: 15_000 });
    await page.locator("#view-only").waitFor();
    assert.equal(await page.locator("#start").isDisabled(), true, "then the page is view only");
    assert.equal(node.node.state.state, "idle");

    await page.click("#logout");
    await login("lab", "pw-lab");
    await page.click("#status");
    await page.locator('#result tbody tr[data-node="M1"][data-ok="true"]').waitFor({ timeout: 15_000 });
  } finally {
    await browser?.close();
    await ui?.stop();
    await node?.stop();
    await broker.stop();
  }
});

test("labx ui and labx node --ui-port: real processes that say where the dashboard is, serve it, and stop on SIGTERM", async () => {
  const broker = await startAedes();
  const dir = tempDir();
  const procs: CliProcess[] = [];
  const address = async (p: CliProcess): Promise<string> => {
    for (let i = 0; i < 200; i++) {
      const m = /dashboard at (http:\/\/\S+\/)/.exec(p.stderr());
      if (m) return m[1]!;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no dashboard address in: ${p.stderr()}`);
  };
  try {
    const ui = runCli([
      "ui",
      "--broker-url",
      broker.url,
      "--ui-port",
      "0",
      "--ui-host",
      "127.0.0.1",
      "--log-level",
      "warn",
    ]);
    procs.push(ui);
    const node = runCli([
      ...["node", "--embedded-broker", "--broker-port", "0", "--ui-port", "0", "--ui-host", "127.0.0.1"],
      ...["--data-dir", dir, "--disable-sync", "--log-level", "warn"],
    ]);
    procs.push(node);
    for (const p of procs) {
      const page = await fetch(await address(p));
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
      assert.match(await page.text(), /<title>labx<\/title>/);
    }
    // The node's own dashboard sees the node on the node's embedded broker.
    const base = await address(node);
    const login = await fetch(`${base}api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const reply = await fetch(`${base}api/command`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ target: "SBC001", command: { cmd: "status" } }),
    });
    const result = (await reply.json()) as { ok: boolean; rows: { node: string }[] };
    assert.deepEqual([result.ok, result.rows.map((r) => r.node)], [true, ["SBC001"]]);
    const refused = await fetch(`${base}api/command`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: "http://evil.example" },
      body: JSON.stringify({ target: "SBC001", command: { cmd: "stop" } }),
    });
    assert.equal(refused.status, 403, "a command from another site is refused");
    for (const p of procs) p.child.kill("SIGTERM");
    for (const p of procs) assert.equal((await p.exited).code, 0);
  } finally {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await broker.stop();
  }
});
