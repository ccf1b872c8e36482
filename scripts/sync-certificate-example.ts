// The sync certificate shown in the README, from real parts: two ground-truth cameras
// (test/helpers/timecode-camera.ts: each frame shows the time code of its exposure, delivered 40 and
// 90 ms later with ±6 ms of jitter), two labx nodes recording them from one synchronized start on an
// aedes broker, then `labx verify` on their session folders. Copies the plot to docs/img/ and prints the
// certificate with the cameras' own figures beside it. Rerun with `npm run screenshots`.
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { quantile } from "../align/stats.js";
import { ROOT, runCli } from "../test/helpers/node.js";
import { startTimecodeRig } from "../test/helpers/timecode-rig.js";

const CAMERAS = [
  { node: "CAM40", latencyMs: 40, jitterMs: 6 },
  { node: "CAM90", latencyMs: 90, jitterMs: 6 },
];
const SECONDS = 20;

async function main(): Promise<void> {
  const rig = await startTimecodeRig(CAMERAS, { fps: 30, batchDuration: 5 });
  const { cameras, nodes } = rig;
  try {
    await rig.record("certificate", SECONDS);
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
    await rig.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
