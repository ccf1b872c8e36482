// The sync certificate shown in the README, from real parts: two ground-truth cameras
// (test/helpers/timecode-camera.ts: each frame shows the time code of its exposure, delivered 40 and
// 90 ms later with ±6 ms of jitter), two labx nodes recording them from one synchronized start on an
// aedes broker, then `labx verify` on their session folders. Copies the plot to docs/img/ and prints the
// certificate with the cameras' own figures beside it. Rerun with `npm run screenshots`.
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { NodeEvent } from "../contract/generated/payloads.js";
import { quantile } from "../align/stats.js";
import { startAedes } from "../test/helpers/aedes.js";
import { MqttRecorder } from "../test/helpers/mqtt-recorder.js";
import { ROOT, runCli, startNode, type RunningNode } from "../test/helpers/node.js";
import { startTimecodeCamera, type TimecodeCamera } from "../test/helpers/timecode-camera-process.js";

const CAMERAS = [
  { node: "CAM40", latencyMs: 40 },
  { node: "CAM90", latencyMs: 90 },
];
const SECONDS = 20;

async function main(): Promise<void> {
  const broker = await startAedes();
  const cameras: TimecodeCamera[] = [];
  const nodes: RunningNode[] = [];
  const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
  try {
    for (const c of CAMERAS) cameras.push(await startTimecodeCamera(30, c.latencyMs, 6));
    for (const [i, c] of CAMERAS.entries())
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: c.node,
          camera: cameras[i]!.url,
          stream_format: "mjpeg",
          batch_duration: 5,
          disable_sync: true,
          preview_interval: 0,
        }),
      );
    const at = new Date(Math.round(Date.now() / 1000) * 1000 + 3000).toISOString();
    for (const c of CAMERAS)
      await rec.command("labx", c.node, c.node, {
        cmd: "start",
        session: "certificate",
        duration: SECONDS,
        at,
      });
    for (const c of CAMERAS)
      await rec.waitFor(
        () => rec.jsonOn<NodeEvent>(`labx/${c.node}/event`).find((e) => e.type === "session_ended"),
        SECONDS * 1000 + 30_000,
        `${c.node} ends`,
      );
    const folders = nodes.map((n) => path.join(n.dataDir, "certificate"));
    const began = performance.now();
    const verify = runCli(["verify", ...folders]);
    const { code } = await verify.exited;
    const seconds = (performance.now() - began) / 1000;
    process.stdout.write(verify.stdout() + verify.stderr());
    console.log(
      `  labx verify took ${seconds.toFixed(1)} s for ${SECONDS} s of ${CAMERAS.length} cameras (process start included)`,
    );
    if (code !== 0) throw new Error(`labx verify exited ${code}`);
    for (const [i, c] of CAMERAS.entries()) {
      const truth = [...cameras[i]!.sent().values()]
        .map((f) => (f.sentUs - f.captureUs) / 1000)
        .sort((a, b) => a - b);
      console.log(
        `  ${c.node}: the camera's own log: p50 ${quantile(truth, 0.5).toFixed(3)} ms over ${truth.length} frames sent`,
      );
    }
    mkdirSync(path.join(ROOT, "docs", "img"), { recursive: true });
    copyFileSync(
      path.join(folders[0]!, "sync-certificate.png"),
      path.join(ROOT, "docs", "img", "sync-certificate.png"),
    );
    console.log("wrote docs/img/sync-certificate.png");
  } finally {
    await rec.close();
    for (const n of nodes) await n.stop();
    for (const c of cameras) c.stop();
    await broker.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
