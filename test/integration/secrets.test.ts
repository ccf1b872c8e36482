import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { loadAuthFile } from "../../broker/auth-file.js";
import { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { hashPassword } from "../../broker/password.js";
import { startFakeCamera, type FakeCamera } from "../helpers/fake-camera-process.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, tempDir, type CliProcess } from "../helpers/node.js";
import { freePort } from "../helpers/ports.js";

// Every failure path that carries a URL or a password, on real processes: `labx node` with secrets
// in the camera URL, in the broker URL and in LABX_BROKER_PASSWORD; then every published payload,
// every file under the data directories and every line the processes printed is searched.
const CAMERA_PW = "camS3cret-Pw";
const BROKER_PW = "brokerS3cret-Pw";
const ENV_PW = "envS3cret-Pw";
const WRONG_PW = "wrongS3cret-Pw";
const SECRETS = [CAMERA_PW, BROKER_PW, ENV_PW, WRONG_PW];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

function leaks(where: string, text: string): string[] {
  return SECRETS.filter((s) => text.includes(s)).map((s) => `${s} in ${where}`);
}

describe("secrets never reach MQTT, disk or logs (real aedes with users, real ffmpeg, labx as processes)", () => {
  it("camera and broker passwords stay secret on every failure path; host and port stay visible", async () => {
    const dir = tempDir();
    const authFile = path.join(dir, "auth.json");
    writeFileSync(
      authFile,
      JSON.stringify({
        users: [
          { username: "LEAK1", role: "node", password_hash: await hashPassword(BROKER_PW) },
          { username: "LEAK2", role: "node", password_hash: await hashPassword(BROKER_PW) },
          { username: "LEAK3", role: "node", password_hash: await hashPassword(ENV_PW) },
          { username: "root", role: "admin", password_hash: await hashPassword("root-pw") },
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
    const procs: CliProcess[] = [];
    const dataDirs: string[] = [];
    let camera: FakeCamera | undefined;
    let rec: MqttRecorder | undefined;
    try {
      const port = await broker.start();
      rec = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["labx/#"], 4, {
        username: "root",
        password: "root-pw",
      });
      const node = (id: string, args: string[], env: Record<string, string> = {}): CliProcess => {
        const data = path.join(dir, id);
        dataDirs.push(data);
        const p = runCli(
          ["node", "--sbc-id", id, "--data-dir", data, "--disable-sync", "--log-level", "debug", ...args],
          env,
        );
        procs.push(p);
        return p;
      };
      const online = (id: string) =>
        rec!.waitFor(
          () => (rec!.on(`labx/${id}/availability`).at(-1)?.text === "online" ? true : undefined),
          30_000,
          `${id} online`,
        );

      // 1. A camera that refuses: the CAMERA_UNAVAILABLE reply (journaled first) and a scheduled start's failure event.
      const dead = await freePort();
      node("LEAK1", [
        "--broker-url",
        `mqtt://LEAK1:${BROKER_PW}@127.0.0.1:${port}`,
        "--camera",
        `tcp://admin:${CAMERA_PW}@127.0.0.1:${dead}`,
        "--start-timeout",
        "5",
      ]);
      await online("LEAK1");
      const reply = await rec.command("labx", "LEAK1", "LEAK1", { cmd: "start" });
      assert.equal(reply.code, "CAMERA_UNAVAILABLE");
      assert.match(
        String(reply.message),
        new RegExp(`127\\.0\\.0\\.1:${dead}`),
        "host and port stay visible",
      );
      const at = new Date(Date.now() + 2500).toISOString();
      assert.equal((await rec.command("labx", "LEAK1", "LEAK1", { cmd: "start", at })).ok, true);
      await rec.waitFor(
        () => rec!.jsonOn("labx/LEAK1/event").find((e) => e.type === "recorder_failed"),
        30_000,
        "scheduled start failure",
      );

      // 2. A camera that dies mid-session: ffmpeg's errors name the URL; restarts, then the session fails.
      camera = await startFakeCamera(30);
      const camUrl = camera.url.replace("tcp://", `tcp://admin:${CAMERA_PW}@`);
      node("LEAK2", [
        "--broker-url",
        `mqtt://LEAK2:${BROKER_PW}@127.0.0.1:${port}`,
        "--camera",
        camUrl,
        "--batch-duration",
        "1",
        "--restart-attempts",
        "1",
        "--start-timeout",
        "4",
        "--stream-format",
        "mjpeg",
      ]);
      await online("LEAK2");
      const started = await rec.command("labx", "LEAK2", "LEAK2", { cmd: "start", session: "s" });
      assert.equal(started.ok, true, JSON.stringify(started));
      await rec.waitFor(() => rec!.jsonOn("labx/LEAK2/batch")[0], 30_000, "a batch");
      camera.stop();
      await rec.waitFor(
        () =>
          rec!.jsonOn("labx/LEAK2/event").find((e) => e.type === "session_ended" && e.reason === "failed"),
        60_000,
        "the session failing",
      );
      assert.ok(rec.jsonOn("labx/LEAK2/event").some((e) => e.type === "recorder_restarted"));

      // 3. The broker password from the environment, and a broker that refuses a wrong password.
      node("LEAK3", ["--broker-url", `mqtt://127.0.0.1:${port}`, "--broker-username", "LEAK3"], {
        LABX_BROKER_PASSWORD: ENV_PW,
      });
      await online("LEAK3");
      const refused = node("LEAK4", ["--broker-url", `mqtt://LEAK4:${WRONG_PW}@127.0.0.1:${port}`]);
      assert.notEqual((await refused.exited).code, 0);
      const monitor = runCli(["monitor", "--broker-url", `mqtt://mon:${WRONG_PW}@127.0.0.1:${port}`]);
      procs.push(monitor);
      assert.notEqual((await monitor.exited).code, 0);
      assert.match(monitor.stderr(), new RegExp(`127\\.0\\.0\\.1:${port}`), "the broker is still named");

      for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGTERM");
      await Promise.all(procs.map((p) => p.exited));

      const found = [
        ...rec.messages.flatMap((m) => leaks(`MQTT ${m.topic}`, m.text)),
        ...dataDirs.flatMap((d) => filesUnder(d).flatMap((f) => leaks(f, readFileSync(f, "latin1")))),
        ...procs.flatMap((p, i) => [
          ...leaks(`stdout of #${i}`, p.stdout()),
          ...leaks(`stderr of #${i}`, p.stderr()),
        ]),
      ];
      assert.deepEqual(found, []);
      // The logs still say which broker and camera: only the user info is gone.
      const logs = procs.map((p) => p.stdout()).join("");
      assert.match(logs, new RegExp(`"url":"mqtt://\\*\\*\\*@127\\.0\\.0\\.1:${port}"`));
      assert.match(logs, new RegExp(`tcp://\\*\\*\\*@127\\.0\\.0\\.1:${dead}`));
      assert.ok(
        rec.messages.some((m) => m.text.includes(`127.0.0.1:${dead}`)),
        "the camera's host and port are in what the node published",
      );
    } finally {
      for (const p of procs)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      camera?.stop();
      await rec?.close();
      await broker.stop();
    }
  });
});
