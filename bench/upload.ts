// Uploads, side by side in one run, against a real OpenStack Swift (s3api) on loopback:
// (1) throughput of labx's verified upload (Content-MD5, signed payload, multipart with resume, HEAD
// read-back) against a bare AWS SDK PutObject of the same files, as a ratio;
// (2) what recording costs with and without uploading (a live MJPEG camera over TCP, the node and its
// ffmpeg, CPU per recorded minute) and whether the upload cost the recorder frames.
// Usage: npm run bench (or: tsx bench/upload.ts [--seconds 60] [--files 8] [--mb 12]).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { readManifest } from "../node/data/manifest.js";
import { S3Store } from "../node/upload/s3-store.js";
import { createS3Client } from "../platform/s3/s3-client.js";
import { startSwift } from "../test/helpers/swift.js";
import { writeSection } from "./doc.js";
import { children, freePort, labxNodeArgs, numArg, proc, sleep } from "./util.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = numArg("seconds", 60);
const FILES = numArg("files", 8);
const MB = numArg("mb", 12);
const work = mkdtempSync(path.join(tmpdir(), "labx-bench-upload-"));
const store = await startSwift();
const s3 = createS3Client({ endpoint: store.endpoint, region: "us-east-1", credentials: store.credentials });
await s3.send(new CreateBucketCommand({ Bucket: "bench" }));

// (1) Throughput.
const files = Array.from({ length: FILES }, (_, i) => {
  const f = path.join(work, `batch-${i}.mkv`);
  writeFileSync(f, randomBytes(MB * 1048576));
  return f;
});
const labx = new S3Store({
  bucket: "bench",
  endpoint: store.endpoint,
  region: "us-east-1",
  partBytes: 8 * 1048576,
  credentials: store.credentials,
});
const timeIt = async (fn: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};
const runs: { labx: number; bare: number }[] = [];
for (let round = 0; round < 2; round++) {
  const l = await timeIt(async () => {
    for (const [i, f] of files.entries()) await labx.upload(`labx/${round}/${i}`, f, "0".repeat(64));
  });
  const b = await timeIt(async () => {
    for (const [i, f] of files.entries())
      await s3.send(
        new PutObjectCommand({ Bucket: "bench", Key: `bare/${round}/${i}`, Body: readFileSync(f) }),
      );
  });
  runs.push({ labx: l, bare: b });
  console.log(`(1) round ${round}: labx ${l.toFixed(2)} s, bare SDK ${b.toFixed(2)} s`);
}
labx.close();
const totalMb = FILES * MB;
const best = (k: "labx" | "bare") => Math.min(...runs.map((r) => r[k]));
const ratio = best("labx") / best("bare");

// (2) Recording with and without upload.
function camera(port: number): ChildProcess {
  return spawn(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"],
      ...["-c:v", "mjpeg", "-q:v", "5", "-f", "mjpeg", `tcp://127.0.0.1:${port}?listen=1`],
    ],
    { stdio: "ignore" },
  );
}

async function record(upload: boolean): Promise<{ cpuPerMin: number; frames: number; uploadedMb: number }> {
  const camPort = await freePort();
  const cam = camera(camPort);
  await sleep(1000);
  const dataDir = path.join(work, upload ? "with" : "without");
  const node = spawn(
    process.execPath,
    labxNodeArgs(root, await freePort(), [
      ...["--camera", `tcp://127.0.0.1:${camPort}`, "--stream-format", "mjpeg", "--batch-duration", "10"],
      ...["--duration", String(SECONDS), "--session", "s", "--data-dir", dataDir],
      ...(upload ? ["--upload-url", `s3://bench/rec`, "--upload-endpoint", store.endpoint] : []),
    ]),
    {
      stdio: ["ignore", "ignore", openSync(path.join(work, `node-${upload ? "with" : "without"}.log`), "w")],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: store.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
      },
    },
  );
  const total = (): number =>
    (proc(node.pid!)?.cpu ?? 0) + children(node.pid!).reduce((s, c) => s + (proc(c)?.cpu ?? 0), 0);
  await sleep(5000);
  const c0 = total();
  const t0 = performance.now();
  await sleep((SECONDS - 5) * 1000);
  const cpuPerMin = ((total() - c0) / ((performance.now() - t0) / 1000)) * 60;
  await sleep(upload ? 15_000 : 3000); // the last batch, and its upload
  node.kill("SIGTERM");
  if (node.exitCode === null && node.signalCode === null) await new Promise((r) => node.once("exit", r));
  cam.kill("SIGTERM");
  const batches = readManifest(path.join(dataDir, "s", "manifest.jsonl"));
  const ledger = upload
    ? readFileSync(path.join(dataDir, "s", "uploads.jsonl"), "utf8")
        .trim()
        .split("\n").length
    : 0;
  console.log(
    `(2) ${upload ? "with" : "without"} upload: ${batches.length} batches, ${ledger} files verified in the store`,
  );
  return {
    cpuPerMin,
    frames: batches.reduce((s, b) => s + b.frames, 0),
    uploadedMb: upload ? batches.reduce((s, b) => s + b.bytes, 0) / 1048576 : 0,
  };
}
const without = await record(false);
const withUpload = await record(true);
s3.destroy();
await store.stop();
if (!process.argv.includes("--keep")) rmSync(work, { recursive: true, force: true });

writeSection(
  "upload",
  `## Uploads — bench/upload.ts

Against a real OpenStack Swift with s3api on loopback (test/helpers/swift.ts), one run.

**Throughput**: ${FILES} files of ${MB} MiB (${totalMb} MiB), uploaded one after another, best of two rounds.
labx's upload sends each file with Content-MD5 and a signed payload hash, in 8 MiB parts (multipart)
above 8 MiB, and reads each object back (HEAD); the bare upload is the AWS SDK's PutObject of the same
bytes, nothing else.

| | seconds | MiB/s |
|---|---|---|
| labx (verified) | ${best("labx").toFixed(2)} | ${(totalMb / best("labx")).toFixed(1)} |
| bare SDK PutObject | ${best("bare").toFixed(2)} | ${(totalMb / best("bare")).toFixed(1)} |

Ratio labx / bare: **${ratio.toFixed(2)}** (time).

**Recording with and without upload**: a 1280×720 MJPEG camera (ffmpeg, real time, over TCP), ${SECONDS} s in
10 s batches, the node and its ffmpeg measured from 5 s on (CPU seconds per minute, all threads).

| | node + ffmpeg CPU s/min | frames recorded | MiB uploaded |
|---|---|---|---|
| without upload | ${without.cpuPerMin.toFixed(2)} | ${without.frames} | — |
| with upload | ${withUpload.cpuPerMin.toFixed(2)} | ${withUpload.frames} | ${withUpload.uploadedMb.toFixed(1)} |

Upload's share: ${(withUpload.cpuPerMin / without.cpuPerMin).toFixed(2)}× the recording's CPU; frames: ${withUpload.frames} with, ${without.frames} without.

Command: \`npx tsx bench/upload.ts --seconds ${SECONDS} --files ${FILES} --mb ${MB}\`.`,
);
