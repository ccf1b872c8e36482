import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { startFakeCamera, type FakeCamera } from "../helpers/fake-camera-process.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, tempDir, type CliProcess } from "../helpers/node.js";
import { freePort } from "../helpers/ports.js";
import { processesIn } from "../helpers/processes.js";

/** The top-level keys of one JSON object as written, duplicates kept (JSON.parse would hide them). */
export function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      if (depth === 1 && line[j + 1] === ":") keys.push(line.slice(i + 1, j));
      i = j;
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return keys;
}

// Every line a node prints through a whole session with faults in it (a camera that stalls, ffmpeg
// killed, a restart, a gap, a stop), with the embedded broker: one key per field, snake_case as in
// the payloads, the node and host on every line, errors with their stack, constant messages.
describe("log lines (labx node as a process, embedded broker, real ffmpeg)", () => {
  it("one key per field, node and hostname everywhere, err serialized, snake_case fields, constant messages", async () => {
    const port = await freePort();
    const dir = tempDir();
    let camera: FakeCamera | undefined;
    let rec: MqttRecorder | undefined;
    let cli: CliProcess | undefined;
    try {
      camera = await startFakeCamera(30);
      cli = runCli([
        "node",
        "--embedded-broker",
        "--broker-port",
        String(port),
        "--sbc-id",
        "LOG1",
        "--data-dir",
        dir,
        "--camera",
        camera.url,
        "--stream-format",
        "mjpeg",
        "--batch-duration",
        "1",
        "--disable-sync",
        "--log-level",
        "debug",
      ]);
      const url = `mqtt://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          rec = await MqttRecorder.connect(url, ["labx/#"], 4, { reconnectPeriod: 0 });
          break;
        } catch {
          assert.ok(Date.now() < deadline, cli.stderr());
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await rec.waitFor(() =>
        rec!.on("labx/LOG1/availability").at(-1)?.text === "online" ? true : undefined,
      );
      assert.equal((await rec.command("labx", "LOG1", "LOG1", { cmd: "start", session: "logs" })).ok, true);
      await rec.waitFor(() => rec!.jsonOn<BatchReady>("labx/LOG1/batch")[1], 30_000, "two batches");
      for (const pid of processesIn(dir, "ffmpeg")) process.kill(pid, "SIGKILL");
      await rec.waitFor(
        () => rec!.jsonOn<NodeEvent>("labx/LOG1/event").find((e) => e.type === "gap"),
        30_000,
        "the gap after the restart",
      );
      assert.equal((await rec.command("labx", "LOG1", "LOG1", { cmd: "stop" })).ok, true);
      assert.equal(
        (await rec.command("labx", "LOG1", "LOG1", { cmd: "start", session: "bad/name" })).ok,
        false,
      );
      const again = await rec.command("labx", "LOG1", "LOG1", { cmd: "start", session: "logs" });
      assert.equal(again.ok, false, "a session name is not used twice");
      await rec.close();
      rec = undefined;
      cli.child.kill("SIGTERM");
      assert.equal((await cli.exited).code, 0, cli.stderr());

      const lines = cli.stdout().trim().split("\n");
      assert.ok(lines.length > 20, `${lines.length} log lines`);
      const problems: string[] = [];
      const messages = new Set<string>();
      for (const line of lines) {
        const keys = topLevelKeys(line);
        const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
        if (dup.length) problems.push(`duplicate ${dup.join(",")}: ${line}`);
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o.node !== "LOG1" || o.hostname !== hostname()) problems.push(`no node/hostname: ${line}`);
        const camel = keys.filter((k) => /[a-z][A-Z]/.test(k));
        if (camel.length) problems.push(`camelCase ${camel.join(",")}: ${line}`);
        if ("err" in o) {
          const err = o.err as { stack?: unknown } | string;
          if (typeof err !== "object" || typeof err.stack !== "string")
            problems.push(`err without stack: ${line}`);
        }
        const msg = String(o.msg);
        // Names, addresses and files belong in fields, not in the message.
        if (/LOG1|logs\b|127\.0\.0\.1|tcp:\/\/|\.mkv/.test(msg)) problems.push(`variable message: ${line}`);
        messages.add(msg);
      }
      assert.deepEqual(problems, []);
      assert.ok(messages.has("ffmpeg died, restarting"));
    } finally {
      await rec?.close();
      if (cli && cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await cli?.exited;
      camera?.stop();
    }
  });
});
