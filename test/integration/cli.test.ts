import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { readManifest } from "../../node/data/manifest.js";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { assertContract } from "../helpers/contract.js";
import { assertPlayable, countFrames, mkvFiles } from "../helpers/media.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { FFMPEG, runCli, tempDir } from "../helpers/node.js";
import { processesIn } from "../helpers/processes.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

describe("labx node as a process", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  const nodeCli = (id: string, dir: string, extra: string[]) =>
    runCli(["node", "--broker-url", broker.url, "--sbc-id", id, "--data-dir", dir, ...extra]);
  before(async () => {
    broker = await startMosquitto();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
  });
  after(async () => {
    await rec?.close();
    await broker?.stop();
  });

  it("SIGTERM mid-batch: the last batch is playable, in the manifest and announced; offline published; no child left", async () => {
    const dir = tempDir();
    const cli = nodeCli("SIG1", dir, ["--batch-duration", "4", "--duration", "600", "--session", "term"]);
    await rec.waitFor(() => rec.jsonOn<BatchReady>("labx/SIG1/batch")[0], 30_000, "first batch");
    await new Promise((r) => setTimeout(r, 1500)); // well inside the second batch
    cli.child.kill("SIGTERM");
    const exit = await cli.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
    const announced = rec.jsonOn<BatchReady>("labx/SIG1/batch");
    const manifest = readManifest(path.join(dir, "term", "manifest.jsonl"));
    assert.deepEqual(manifest, announced);
    assert.equal(announced.length, 2);
    const last = announced.at(-1)!;
    assert.equal(last.last, true);
    assert.ok(last.duration_s > 1 && last.duration_s < 4, `last batch lasts ${last.duration_s} s`);
    assertPlayable(path.join(dir, last.file));
    assert.equal(countFrames(path.join(dir, last.file)), last.frames);
    assert.deepEqual(mkvFiles(path.join(dir, "term")).length, 2);
    await rec.waitFor(
      () => (rec.on("labx/SIG1/availability").at(-1)?.text === "offline" ? true : undefined),
      5000,
      "offline",
    );
    assert.deepEqual(processesIn(dir), []);
    assertContract(rec.messages, "labx", "SIG1");
  });

  it("kill -9 of the node: its ffmpeg exits by itself within seconds instead of holding the camera", async () => {
    const dir = tempDir();
    const cli = nodeCli("K9", dir, ["--duration", "600", "--session", "k9"]);
    await rec.waitFor(
      () => rec.jsonOn("labx/K9/event").find((e) => e.type === "session_started"),
      30_000,
      "recording",
    );
    assert.equal(processesIn(dir).length, 1, "one ffmpeg runs in the session folder");
    cli.child.kill("SIGKILL");
    await cli.exited;
    const deadline = Date.now() + 10_000;
    while (processesIn(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(processesIn(dir), [], "ffmpeg outlived the node by 10 s");
  });

  it("--duration records at launch and exits 0 when done, like the old collector", async () => {
    const dir = tempDir();
    const cli = nodeCli("DUR1", dir, ["--duration", "3", "--batch-duration", "2", "--session", "d3"]);
    const exit = await cli.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
    const batches = readManifest(path.join(dir, "d3", "manifest.jsonl"));
    assert.equal(batches.length, 2);
    const frames = batches.reduce((n, b) => n + b.frames, 0);
    assert.ok(Math.abs(frames - 90) <= 1, `${frames} frames in 3 s at 30 fps`);
    assert.deepEqual(rec.jsonOn<BatchReady>("labx/DUR1/batch"), batches);
  });

  it("a bad value exits 2 with one line naming the key and what was expected", async () => {
    const cli = runCli(["node", "--batch-duration", "0"]);
    const exit = await cli.exited;
    assert.equal(exit.code, 2);
    const lines = cli.stderr().trim().split("\n");
    assert.equal(lines.length, 1, cli.stderr());
    assert.match(lines[0]!, /batch_duration: must be a number of seconds from 1 to 3600/);
  });

  it("an environment variable is validated the same way", async () => {
    const cli = runCli(["node"], { LABX_SBC_ID: "bad/id" });
    assert.equal((await cli.exited).code, 2);
    assert.match(cli.stderr(), /sbc_id: must be 1-64 characters/);
  });

  it("a missing ffmpeg is a clear error at start, before any command", async () => {
    const cli = runCli(["node", "--broker-url", broker.url, "--ffmpeg-path", "/nonexistent/ffmpeg"]);
    assert.equal((await cli.exited).code, 3);
    assert.match(cli.stderr(), /--ffmpeg-path \/nonexistent\/ffmpeg is not an executable file/);
    const noPath = runCli(["node", "--broker-url", broker.url], { PATH: "/nonexistent" });
    assert.equal((await noPath.exited).code, 3);
    assert.match(noPath.stderr(), /ffmpeg not found: install it/);
  });

  it("ffmpeg: the system's (on PATH) before ffmpeg-static's, which is the fallback; the one used and its version are logged", async () => {
    // Two ffmpegs that are the real one, told apart by their paths: one on PATH, one posing as
    // ffmpeg-static's download (a package of that name on NODE_PATH, as npm would install it).
    const tmp = tempDir();
    const system = path.join(tmp, "bin", "ffmpeg");
    const bundled = path.join(tmp, "static-build", "ffmpeg");
    for (const f of [system, bundled]) {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, `#!/bin/sh\nexec '${FFMPEG}' "$@"\n`, { mode: 0o755 });
    }
    const pkg = path.join(tmp, "modules", "ffmpeg-static");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, "index.js"), `module.exports = ${JSON.stringify(bundled)};\n`);
    const real = execFileSync(FFMPEG, ["-hide_banner", "-version"]).toString().split("\n")[0]!;
    const version = /^ffmpeg version (\S+)/.exec(real)![1]!;
    const found = (out: string) => {
      const line = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map(
          (l) =>
            JSON.parse(l) as {
              msg: string;
              ffmpeg?: string;
              version?: string;
              tested?: boolean;
              enc_time_base?: string;
            },
        )
        .find((l) => l.ffmpeg !== undefined && l.version !== undefined);
      return (
        line && {
          msg: line.msg,
          ffmpeg: line.ffmpeg,
          version: line.version,
          tested: line.tested,
          enc_time_base: line.enc_time_base,
        }
      );
    };
    const record = async (id: string, env: Record<string, string>) => {
      const dir = tempDir();
      const cli = runCli(
        [
          "node",
          "--broker-url",
          broker.url,
          "--sbc-id",
          id,
          "--data-dir",
          dir,
          "--duration",
          "1",
          "--session",
          "s",
        ],
        { NODE_PATH: path.join(tmp, "modules"), ...env },
      );
      assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
      assert.equal(readManifest(path.join(dir, "s", "manifest.jsonl")).length, 1, "it recorded");
      return found(cli.stdout());
    };
    // Found by trying the binary; what the release notes say is the check: ffmpeg 6.1 named it "demux".
    const [major, minor] = version.split(/[.-]/).map(Number) as [number, number];
    const encTimeBase = major * 100 + minor >= 601 ? "demux" : "-1";
    const expect = (ffmpeg: string) => ({
      msg: "ffmpeg found",
      ffmpeg,
      version,
      tested: true,
      enc_time_base: encTimeBase,
    });
    // Both present: the system's.
    assert.deepEqual(
      await record("FF1", { PATH: `${path.dirname(system)}:${process.env.PATH}` }),
      expect(system),
    );
    // No ffmpeg on PATH: ffmpeg-static's.
    const noFfmpeg = (process.env.PATH ?? "")
      .split(":")
      .filter((d) => !existsSync(path.join(d, "ffmpeg")))
      .join(":");
    assert.deepEqual(await record("FF2", { PATH: noFfmpeg }), expect(bundled));
  });
});

describe("embedded broker", () => {
  it("labx node --embedded-broker: mosquitto clients drive it; SIGINT finalizes, says offline, closes", async () => {
    const port = await freePort();
    const dir = tempDir();
    const cli = runCli([
      "node",
      "--embedded-broker",
      "--broker-port",
      String(port),
      "--broker-host",
      "127.0.0.1",
      "--sbc-id",
      "EMB1",
      "--data-dir",
      dir,
      "--batch-duration",
      "2",
    ]);
    try {
      await waitForPort(port, 20_000);
      const rec = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["labx/#"]);
      await rec.waitFor(() => rec.on("labx/EMB1/state")[0], 10_000, "retained state");
      const r = await rec.command("labx", "EMB1", "EMB1", { cmd: "start", session: "emb" });
      assert.equal(r.ok, true);
      await rec.waitFor(() => rec.jsonOn("labx/EMB1/batch")[1], 30_000, "two batches");
      cli.child.kill("SIGINT");
      assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
      const batches = rec.jsonOn<BatchReady>("labx/EMB1/batch");
      assert.equal(batches.at(-1)!.last, true);
      assert.deepEqual(readManifest(path.join(dir, "emb", "manifest.jsonl")), batches);
      assert.equal(rec.on("labx/EMB1/availability").at(-1)?.text, "offline");
      assert.deepEqual(processesIn(dir), []);
      await rec.close();
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  it("labx broker runs alone and stops on SIGTERM", async () => {
    const port = await freePort();
    const cli = runCli(["broker", "--broker-port", String(port), "--broker-host", "127.0.0.1"]);
    await waitForPort(port, 20_000);
    const a = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["x/#"]);
    await a.publish("x/y", "hello");
    await a.waitFor(() => a.on("x/y")[0], 5000, "round trip");
    await a.close();
    cli.child.kill("SIGTERM");
    assert.deepEqual(await cli.exited, { code: 0, signal: null });
  });
});

describe("offline first, like the old collector", () => {
  it("--duration with no broker reachable records at once; every batch is announced when the broker appears", async () => {
    const port = await freePort();
    const dir = tempDir();
    let broker: Broker | undefined;
    let sub: MqttRecorder | undefined;
    let proxy: TcpProxy | undefined;
    const cli = runCli([
      "node",
      "--broker-url",
      `mqtt://127.0.0.1:${port}`,
      "--sbc-id",
      "OFF1",
      "--data-dir",
      dir,
      "--duration",
      "6",
      "--batch-duration",
      "1",
      "--session",
      "off",
      "--disable-sync",
    ]);
    try {
      const manifestFile = path.join(dir, "off", "manifest.jsonl");
      // Ground truth of "at once": batches are on disk while no broker exists at all.
      const deadline = Date.now() + 30_000;
      while (!(existsSync(manifestFile) && readManifest(manifestFile).length >= 2)) {
        assert.ok(Date.now() < deadline, `no batch recorded without a broker: ${cli.stderr()}`);
        assert.equal(cli.child.exitCode, null, `the node exited: ${cli.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The broker appears: a subscriber is on it before the node can reach it (through a proxy on
      // the node's port), so it sees every announcement.
      broker = await startMosquitto();
      sub = await MqttRecorder.connect(broker.url, ["labx/OFF1/#"]);
      const brokerUpAt = Date.now();
      proxy = await TcpProxy.start(broker.port, port);
      const exit = await cli.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      const batches = readManifest(manifestFile);
      assert.ok(
        Date.parse(batches[0]!.start) < brokerUpAt,
        "the first batch began before any broker existed",
      );
      await sub.waitFor(
        () => (sub!.jsonOn<BatchReady>("labx/OFF1/batch").length >= batches.length ? true : undefined),
        30_000,
        "every batch announced",
      );
      assert.deepEqual(sub.jsonOn<BatchReady>("labx/OFF1/batch"), batches, "announced once each, in order");
      assert.ok(batches.at(-1)!.last);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await sub?.close();
      await proxy?.stop();
      await broker?.stop();
    }
  });
});
