import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { startAedes } from "../helpers/aedes.js";
import { startChronyClient, startChronyServer } from "../helpers/chrony.js";
import { startFakeCamera } from "../helpers/fake-camera-process.js";
import { runCli, tempDir } from "../helpers/node.js";

// `labx doctor` as a process against real components: ffmpeg, the synthetic and a network camera,
// chronyd on loopback, aedes. No V4L2 device exists here: its check says so.
interface Check {
  check: string;
  verdict: string;
  detail: string;
  data?: Record<string, number | string>;
}

async function doctor(args: string[]): Promise<{ code: number | null; checks: Check[] }> {
  const run = runCli(["doctor", "--json", "--data-dir", tempDir(), ...args]);
  const { code } = await run.exited;
  return { code, checks: JSON.parse(run.stdout()) as Check[] };
}

const verdicts = (checks: Check[]): Record<string, string> =>
  Object.fromEntries(checks.map((c) => [c.check, c.verdict]));

describe("labx doctor", () => {
  it("synthetic camera, synced chrony, a reachable broker: every check ok, exit 0, the capture's figures exact", async () => {
    const broker = await startAedes();
    const server = await startChronyServer();
    const client = await startChronyClient(server.port);
    try {
      // chronyd on loopback needs a few polls to select its source.
      const synced = (): boolean => {
        try {
          const out = execFileSync("chronyc", [
            "-h",
            "127.0.0.1",
            "-p",
            String(client.cmdPort),
            "-c",
            "sources",
          ]).toString();
          return out.split("\n").some((l) => l.startsWith("^,*"));
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && !synced(); i++) await new Promise((r) => setTimeout(r, 200));
      const { code, checks } = await doctor([
        ...["--broker-url", broker.url, "--camera", "synthetic"],
        ...["--chrony-host", "127.0.0.1", "--chrony-port", String(client.cmdPort)],
      ]);
      assert.deepEqual(verdicts(checks), {
        ffmpeg: "ok",
        cameras: "ok",
        capture: "ok",
        clock: "ok",
        disk: "ok",
        broker: "ok",
        "network access": "ok",
        "secrets in /proc": "ok",
      });
      assert.equal(code, 0);
      const capture = checks.find((c) => c.check === "capture")!.data!;
      // The synthetic camera's exact grid: 5 s at 30 fps, nothing dropped, 1/30 s apart to the µs.
      assert.ok(Math.abs(Number(capture.frames) - 150) <= 1, String(capture.frames));
      assert.equal(capture.dropped, 0);
      assert.equal(capture.intervalMs, 33.333);
      assert.equal(capture.time_source, "synthetic");
      assert.match(checks.find((c) => c.check === "clock")!.detail, /chrony synced/);
    } finally {
      await client.stop();
      await server.stop();
      await broker.stop();
    }
  });

  it("a network camera and no broker: the capture is judged on arrival times, the broker fails, exit 1", async () => {
    const camera = await startFakeCamera(30, undefined, "http");
    try {
      const { code, checks } = await doctor([
        "--camera",
        camera.url,
        "--broker-url",
        "mqtt://127.0.0.1:1",
        "--disable-sync",
      ]);
      assert.equal(code, 1);
      const v = verdicts(checks);
      assert.equal(v.broker, "fail");
      assert.equal(v.clock, "skipped");
      assert.equal(v.capture, "ok", checks.find((c) => c.check === "capture")!.detail);
      const capture = checks.find((c) => c.check === "capture")!;
      assert.match(capture.detail, /\(mjpeg\)/, "the format the node found");
      assert.equal(capture.data!.time_source, "arrival");
      assert.equal(capture.data!.dropped, 0);
      // Every frame it counted was sent by the camera (its send log is the truth; frames sent while
      // ffmpeg was closing are in the log, not in the capture), in order.
      const sent = camera.sent();
      assert.ok(Number(capture.data!.frames) <= sent.size, `${capture.data!.frames} of ${sent.size}`);
      assert.equal(capture.data!.monotonic, true);
    } finally {
      camera.stop();
    }
  });
});
