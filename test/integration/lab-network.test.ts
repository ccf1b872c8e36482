import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { launchChromium } from "../helpers/browser.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { CLI, ROOT, runCli, tempDir, type CliProcess } from "../helpers/node.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { withSecondHost, type SecondHost } from "../helpers/second-host.js";

// A shared lab network, for real: the node with its embedded broker and dashboard on this machine, and
// a second host (a network namespace on a veth pair) that tries to command it, joins it as a node, and
// logs in to its dashboard.

/** An HTTP request made from the second host (http.request: fetch cannot set Host). */
async function httpFrom(
  host: SecondHost,
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const script = `
    const http = require("node:http");
    const [url, opts, body] = [process.argv[1], JSON.parse(process.argv[2]), process.argv[3]];
    const req = http.request(url, opts, (res) => {
      let b = ""; res.on("data", (d) => (b += d));
      res.on("end", () => console.log(JSON.stringify({ status: res.statusCode, body: b })));
    });
    req.on("error", (e) => console.log(JSON.stringify({ status: 0, body: e.message })));
    req.end(body || undefined);`;
  const opts = { method: o.method ?? "GET", headers: o.headers ?? {} };
  const r = await host.run(process.execPath, ["-e", script, url, JSON.stringify(opts), o.body ?? ""]);
  return JSON.parse(r.stdout.trim()) as { status: number; body: string };
}

const login = (host: SecondHost, base: string, body: unknown, headers: Record<string, string> = {}) =>
  httpFrom(host, `${base}api/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** Waits until `id` says it is online on `rec`. */
const online = (rec: MqttRecorder, id: string, ms = 30_000) =>
  rec.waitFor(
    () => (rec.on(`labx/${id}/availability`).at(-1)?.text === "online" ? true : undefined),
    ms,
    `${id} online`,
  );

/** An anonymous client on this machine (loopback: allowed, as before), once node `id` is online. */
async function watchLocally(port: number, id: string): Promise<MqttRecorder> {
  await waitForPort(port, 30_000);
  const rec = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["labx/#"]);
  await online(rec, id).catch(async (err: unknown) => {
    await rec.close();
    throw err;
  });
  return rec;
}

async function stopCli(p: CliProcess): Promise<void> {
  if (p.child.exitCode === null) p.child.kill("SIGTERM");
  await p.exited;
}

async function credential(dir: string, which: "join" | "controller"): Promise<string> {
  const p = runCli(["credentials", "--data-dir", dir, "--show", which]);
  assert.equal((await p.exited).code, 0, p.stderr());
  return p.stdout().trim();
}

describe("a lab network: the README's node cannot be commanded from another host without a login", () => {
  it("anonymous from another host is refused; a second Pi joins with the printed command; the dashboard asks for the lab's login", async () => {
    await withSecondHost(async (host) => {
      const dir = tempDir();
      const [port, uiPort] = [await freePort(), await freePort()];
      const node = runCli([
        ...["node", "--embedded-broker", "--broker-port", String(port), "--ui-port", String(uiPort)],
        ...["--sbc-id", "LA", "--data-dir", dir, "--disable-sync", "--batch-duration", "1"],
      ]);
      let joined: ReturnType<SecondHost["start"]> | null = null;
      let local: MqttRecorder | null = null;
      try {
        // Loopback stays as it was: an anonymous client on this machine watches and commands.
        local = await watchLocally(port, "LA");

        // The first start said, in plain words, how another Pi joins; not on a terminal, without the password.
        const joinPassword = await credential(dir, "join");
        const said = node.stderr();
        assert.match(said, /Another Pi joins it/);
        assert.match(said, /labx node --broker-url mqtt:\/\/\S+ --broker-username join --sbc-id/);
        assert.ok(!said.includes(joinPassword), "no password in a log that is not a terminal");
        const lab = path.join(dir, ".labx");
        for (const f of ["auth.json", "credentials.json"])
          assert.equal(statSync(path.join(lab, f)).mode & 0o777, 0o600, f);
        assert.equal(statSync(lab).mode & 0o777, 0o700);

        // An anonymous start from the second host: refused at CONNECT, and nothing starts.
        const brokerUrl = ["-h", host.hostAddress, "-p", String(port), "-q", "1"];
        const pub = (login: string[], topic: string, message: string) =>
          host.run("mosquitto_pub", [...brokerUrl, ...login, "-t", topic, "-m", message]);
        const anon = await pub([], "labx/LA/cmd", "start");
        assert.notEqual(anon.code, 0, "an anonymous client from another host is refused");
        assert.match(anon.stderr, /not authori[sz]ed/i);
        const wrong = await pub(["-u", "join", "-P", "wrong"], "labx/LA/cmd", "start");
        assert.notEqual(wrong.code, 0, "a wrong password is refused");
        // The join login speaks only as the node its client id names: it cannot command, nor forge LA's state.
        const asLX = ["-i", "labx-LX", "-u", "join", "-P", joinPassword];
        const forged = await pub(asLX, "labx/LA/state", "forged");
        const cmd = await pub(asLX, "labx/LA/cmd", "start");
        const noNodeId = await pub(["-i", "laptop", "-u", "join", "-P", joinPassword], "labx/x/event", "x");
        assert.notEqual(noNodeId.code, 0, "a join login must name a node in its client id");
        const status = await local.command("labx", "LA", "LA", { cmd: "status" });
        assert.equal(
          (status.state as { state: string }).state,
          "idle",
          `no recording started: ${JSON.stringify([forged, cmd])}`,
        );
        assert.ok(
          !local.messages.some((m) => m.text === "forged"),
          "LA's state cannot be forged with the join login",
        );

        // The second Pi joins with the command the first start printed, its password in the environment.
        const dir2 = tempDir();
        joined = host.start(
          process.execPath,
          [
            ...["--import", "tsx", CLI, "node", "--broker-url", `mqtt://${host.hostAddress}:${port}`],
            ...[
              "--broker-username",
              "join",
              "--sbc-id",
              "LB",
              "--data-dir",
              dir2,
              "--disable-sync",
              "--batch-duration",
              "1",
            ],
          ],
          { LABX_BROKER_PASSWORD: joinPassword, NODE_PATH: path.join(ROOT, "node_modules") },
        );
        let joinedErr = "";
        joined.stderr!.on("data", (d: Buffer) => (joinedErr += d.toString()));
        await online(local, "LB", 60_000).catch((err: Error) => {
          throw new Error(`${err.message}: ${joinedErr}`);
        });
        const started = await local.command("labx", "LB", "LB", { cmd: "start", session: "joined" });
        assert.equal(started.ok, true, JSON.stringify(started));
        const batch = await local.waitFor(
          () => local!.jsonOn<BatchReady>("labx/LB/batch")[0],
          30_000,
          "a batch from LB",
        );
        assert.equal(batch.node, "LB");
        assert.equal((await local.command("labx", "LB", "LB", { cmd: "stop" })).ok, true);

        // The dashboard, from the second host: an anonymous login is refused, the lab's login commands.
        const base = `http://${host.hostAddress}:${uiPort}/`;
        const anonymousPage = await login(host, base, {});
        assert.equal(anonymousPage.status, 401, anonymousPage.body);
        const controller = await credential(dir, "controller");
        const page = await login(host, base, { username: "lab", password: controller });
        assert.equal(page.status, 200, page.body);
        assert.equal((JSON.parse(page.body) as { can_command: boolean }).can_command, true);
        const wrongPage = await login(host, base, { username: "lab", password: "nope" });
        assert.equal(wrongPage.status, 401);
        // DNS rebinding: a foreign Host name, with its matching Origin, gets nothing at all.
        const rebind = await login(
          host,
          base,
          { username: "lab", password: controller },
          {
            host: "rebind.example",
            origin: "http://rebind.example",
          },
        );
        assert.equal(rebind.status, 421, rebind.body);
        const rebindPage = await httpFrom(host, base, { headers: { host: `rebind.example:${uiPort}` } });
        assert.equal(rebindPage.status, 421);
        // Logins are rate-limited per address: a burst of wrong ones ends in 429.
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++)
          statuses.push((await login(host, base, { username: "lab", password: `x${i}` })).status);
        assert.equal(statuses.at(-1), 429, statuses.join(","));
        // From this machine, an anonymous page login behaves as before.
        const localPage = await fetch(`http://127.0.0.1:${uiPort}/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(localPage.status, 200);
      } finally {
        await local?.close();
        await stopCli(node);
      }
      assert.equal((await node.exited).code, 0, node.stderr());
    });
  });

  it("on a terminal, the first start prints the exact join command with its password; a later start only says where they are", async () => {
    const dir = tempDir();
    const port = await freePort();
    // script(1) gives labx broker a real terminal, as the README's first command has.
    const onTerminal = (): Promise<string> =>
      new Promise((resolve) => {
        const cmd = [
          process.execPath,
          "--import",
          "tsx",
          CLI,
          "broker",
          "--broker-port",
          String(port),
          "--data-dir",
          dir,
        ]
          .map((a) => `'${a}'`)
          .join(" ");
        const child = spawn("script", ["-qfec", cmd, "/dev/null"], {
          cwd: ROOT,
          stdio: ["pipe", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (
            /labx credentials --data-dir/.test(out) &&
            /\n/.test(out.split("labx credentials --data-dir").at(-1)!)
          )
            child.kill("SIGTERM");
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("exit", () => {
          clearTimeout(timer);
          resolve(out);
        });
      });
    const first = await onTerminal();
    const join = await credential(dir, "join");
    const controller = await credential(dir, "controller");
    assert.ok(
      first.includes(`LABX_BROKER_PASSWORD=${join} labx node --broker-url mqtt://`),
      `the exact join command: ${first}`,
    );
    assert.ok(first.includes(`user lab, password ${controller}`), first);
    const second = await onTerminal();
    assert.ok(!second.includes(join) && !second.includes(controller), second);
    assert.match(second, /anonymous clients from this machine only; the lab's logins: labx credentials/);
  });

  it("--allow-anonymous opens the broker and the dashboard to every host, and says so", async () => {
    await withSecondHost(async (host) => {
      const dir = tempDir();
      const [port, uiPort] = [await freePort(), await freePort()];
      const node = runCli([
        ...[
          "node",
          "--embedded-broker",
          "--broker-port",
          String(port),
          "--ui-port",
          String(uiPort),
          "--allow-anonymous",
        ],
        ...["--sbc-id", "LO", "--data-dir", dir, "--disable-sync", "--log-level", "warn"],
      ]);
      let local: MqttRecorder | null = null;
      try {
        local = await watchLocally(port, "LO");
        const r = await host.run("mosquitto_pub", [
          "-h",
          host.hostAddress,
          "-p",
          String(port),
          "-q",
          "1",
          "-t",
          "labx/LO/cmd",
          "-m",
          '{"cmd":"status","id":"open-1"}',
        ]);
        assert.equal(r.code, 0, r.stderr);
        await local.waitFor(
          () => local!.jsonOn<{ id: string }>("labx/LO/reply").find((x) => x.id === "open-1"),
          10_000,
          "reply",
        );
        const page = await login(host, `http://${host.hostAddress}:${uiPort}/`, {});
        assert.equal(page.status, 200, page.body);
        assert.equal((JSON.parse(page.body) as { open_to_anonymous: boolean }).open_to_anonymous, true);
        assert.match(node.stderr(), /ANYONE on this network may connect/);
        // The page says it too, in real Chromium.
        const browser = await launchChromium();
        try {
          const tab = await browser.newPage();
          await tab.goto(`http://127.0.0.1:${uiPort}/`);
          await tab.locator("#open-warning").waitFor({ state: "visible", timeout: 15_000 });
          assert.match((await tab.locator("#open-warning").textContent())!, /anyone on the network/);
        } finally {
          await browser.close();
        }
        assert.match(
          node.stdout() + node.stderr(),
          /--allow-anonymous: the broker takes anonymous clients from every host/,
        );
      } finally {
        await local?.close();
        await stopCli(node);
      }
    });
  });
});
