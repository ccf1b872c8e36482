import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Logins } from "../../ui/logins.js";
import { createValidators } from "../../contract/schemas.js";
import { connectVisitor } from "../../platform/mqtt/visitor.js";
import { startAedes } from "../helpers/aedes.js";
import { startMosquitto } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { runCli, tempDir, type CliProcess } from "../helpers/node.js";
import { systemClock } from "../../platform/clock.js";

// The dashboard's logins against real brokers: `labx ui` as a process, mosquitto with a password file.

async function uiAt(p: CliProcess): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const m = /dashboard at (http:\/\/\S+\/)/.exec(p.stderr());
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the dashboard did not say where it is: ${p.stderr()}`);
}

const post = (base: string, route: string, body: unknown, cookie = "") =>
  fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });

describe("dashboard logins lend nothing", () => {
  it("labx ui with a login in --broker-url: page logins with no, a wrong or an unknown login are refused; the right one works", async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const passwd = path.join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-b", "-c", passwd, "lab", "S3cretLab"]);
    const broker = await startMosquitto(undefined, { passwordFile: passwd });
    const ui = runCli([
      ...["ui", "--broker-url", `mqtt://lab:S3cretLab@127.0.0.1:${broker.port}`],
      ...["--ui-port", "0", "--ui-host", "127.0.0.1", "--log-level", "warn"],
    ]);
    try {
      const base = await uiAt(ui);
      for (const body of [
        {},
        { username: "lab", password: "wrong" },
        { username: "nobody", password: "x" },
        { username: "lab" },
      ]) {
        const r = await post(base, "api/login", body);
        assert.equal(r.status, 401, `${JSON.stringify(body)}: ${await r.text()}`);
      }
      const ok = await post(base, "api/login", { username: "lab", password: "S3cretLab" });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { can_command: boolean }).can_command, true);
      assert.ok(
        !(ui.stdout() + ui.stderr()).includes("S3cretLab"),
        "the password is in the dashboard's output",
      );
    } finally {
      ui.child.kill("SIGTERM");
      await ui.exited;
      await broker.stop();
    }
  });

  it("a broker that cannot be reached: the error names it without the URL's password", async () => {
    const dead = await freePort();
    const ui = runCli([
      ...["ui", "--broker-url", `mqtt://u:Sup3rSecret@127.0.0.1:${dead}`],
      ...["--ui-port", "0", "--ui-host", "127.0.0.1", "--log-level", "warn"],
    ]);
    try {
      const base = await uiAt(ui);
      const r = await post(base, "api/login", { username: "u", password: "p" });
      const text = await r.text();
      assert.equal(r.status, 502, text);
      assert.ok(!text.includes("Sup3rSecret"), text);
      assert.ok(!(ui.stdout() + ui.stderr()).includes("Sup3rSecret"));
    } finally {
      ui.child.kill("SIGTERM");
      await ui.exited;
    }
  });

  it("logins are capped: the least recently used is closed (its MQTT connection too), and streams per login are capped", async () => {
    const broker = await startAedes();
    const watcher = await MqttRecorder.connect(broker.url, ["$SYS/#"]);
    const logins = new Logins({
      baseTopic: "labx",
      validators: createValidators(),
      security: {},
      connect: (security) =>
        connectVisitor({
          url: broker.url,
          clientId: `ui-${Math.random()}`,
          security,
          timeoutMs: 5000,
          log: pino({ level: "silent" }),
          clock: systemClock(),
        }),
      roleOf: null,
      idleMs: 600_000,
      maxLogins: 3,
      maxNodes: 16,
      log: pino({ level: "silent" }),
      clock: systemClock(),
    });
    try {
      const opened = [];
      for (let i = 0; i < 3; i++) {
        opened.push(await logins.open(null, null));
        await new Promise((r) => setTimeout(r, 5));
      }
      logins.get(opened[0]!.token); // the first is used again: the second is now the least recent
      await new Promise((r) => setTimeout(r, 5));
      const fourth = await logins.open(null, null);
      assert.ok(logins.get(opened[0]!.token), "the recently used login stays");
      assert.equal(logins.get(opened[1]!.token), undefined, "the least recently used login is closed");
      assert.equal(opened[1]!.connection.connected, false, "and its broker connection with it");
      assert.ok(logins.get(fourth.token));
    } finally {
      await logins.stop();
      await watcher.close();
      await broker.stop();
    }
  });

  it("a page that stops reading its event stream is cut off, not buffered without end", async () => {
    const broker = await startAedes();
    const pub = await MqttRecorder.connect(broker.url, []);
    const port = await freePort();
    const ui = runCli([
      ...[
        "ui",
        "--broker-url",
        broker.url,
        "--ui-port",
        String(port),
        "--ui-host",
        "127.0.0.1",
        "--log-level",
        "warn",
      ],
    ]);
    try {
      await waitForPort(port, 20_000);
      const base = `http://127.0.0.1:${port}/`;
      const login = await post(base, "api/login", {});
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      // Nine streams on one login: the ninth is refused.
      const statuses: number[] = [];
      const open: http.ClientRequest[] = [];
      for (let i = 0; i < 9; i++)
        statuses.push(
          await new Promise<number>((resolve) => {
            const req = http.get(`${base}api/stream`, { headers: { cookie } }, (res) => {
              resolve(res.statusCode!);
              if (res.statusCode !== 200) res.resume();
            });
            req.on("error", () => {}); // destroyed below
            req.on("error", () => {}); // destroyed below
            open.push(req);
          }),
        );
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 429]);
      for (const r of open) r.destroy();
      // One stream whose reader never reads: the fleet publishes 60 kB events until it is cut.
      const stalled = await new Promise<http.IncomingMessage>((resolve) => {
        const req = http.get(`${base}api/stream`, { headers: { cookie } }, resolve);
        req.on("error", () => {}); // destroyed below
        open.push(req);
      });
      stalled.pause();
      const cut = (): boolean => /dashboard stream too slow: closed/.test(ui.stdout());
      const event = (i: number) =>
        JSON.stringify({
          node: "S1",
          at: new Date().toISOString(),
          type: "recorder_failed",
          level: "warning",
          message: "x".repeat(60_000) + i,
        });
      let sent = 0;
      // Until it is cut (the kernel's socket buffers take several MB before the server's 4 MiB count):
      // at most 90 MB, a pause every 50 events so that the dashboard's client keeps up with the broker.
      for (; sent < 1500 && !cut(); sent++) {
        await pub.publish("labx/S1/event", event(sent), { qos: 0 });
        if (sent % 50 === 49) await new Promise((r) => setTimeout(r, 50));
      }
      for (let i = 0; i < 50 && !cut(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(cut(), `the stalled stream was not cut off after ${sent} events of 60 kB`);
      assert.equal(ui.stdout().match(/dashboard stream too slow: closed/g)?.length, 1, ui.stdout());
      // The login's count of streams went back down: eight new ones are taken.
      for (const r of open) r.destroy();
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 8; i++) {
        const again = await new Promise<http.IncomingMessage>((resolve) => {
          const req = http.get(`${base}api/stream`, { headers: { cookie } }, resolve);
          req.on("error", () => {}); // destroyed below
          open.push(req);
        });
        assert.equal(again.statusCode, 200, `stream ${i}`);
      }
      for (const r of open) r.destroy();
    } finally {
      ui.child.kill("SIGTERM");
      await ui.exited;
      await pub.close();
      await broker.stop();
    }
  });
});
