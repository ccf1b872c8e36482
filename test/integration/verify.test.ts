// labx verify end to end: two ground-truth cameras (test/helpers/timecode-camera.ts) show the time code of
// each frame's exposure and deliver it 40 and 90 ms later, with jitter; two real nodes record them over
// TCP from one synchronized start; labx verify (a real process) must recover each latency from the
// recorded frames to 10 µs of the truth (p50: the node's stamp of each frame minus its exposure in the
// camera's log), and the corrected alignment within one frame period. Then --save: the nodes keep the latency, the next session's times are corrected (the
// stamped ones kept), labx align reads the corrected times, and verify finds nothing left to correct.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import type { SyncCertificate } from "../../align/verify/certificate.js";
import { epochTextUs, isoUs, parseSidecar } from "../../align/session-reader.js";
import { quantile } from "../../align/stats.js";
import { createValidators } from "../../contract/schemas.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { mjpegBytes } from "../helpers/media.js";
import { exitedWithin, runCli, tempDir, type RunningNode } from "../helpers/node.js";
import type { TimecodeCamera } from "../helpers/timecode-camera-process.js";
import { startTimecodeRig } from "../helpers/timecode-rig.js";

const validators = createValidators();
const FPS = 30;
const PERIOD_MS = 1000 / FPS;
const CAMERAS = [
  { node: "CAM40", latencyMs: 40, jitterMs: 6 },
  { node: "CAM90", latencyMs: 90, jitterMs: 6 },
];

async function verify(
  args: string[],
): Promise<{ code: number | null; cert: SyncCertificate; stderr: string }> {
  const p = runCli(["verify", ...args, "--json"]);
  // Bounded (a run here hung once until the file's 240 s timeout, saying nothing): ~10 s normally.
  const { code } = await exitedWithin(p, 90_000, `labx verify ${args.join(" ")}`);
  assert.ok(p.stdout().trim().startsWith("{"), `verify printed JSON; stderr: ${p.stderr()}`);
  const cert: unknown = JSON.parse(p.stdout());
  assert.ok(
    validators.certificate(cert),
    `the certificate follows its schema: ${JSON.stringify(validators.certificate.errors)}`,
  );
  return { code, cert, stderr: p.stderr() };
}

interface Truth {
  /** Stamped by the node − exposed, per frame (ms): what verify must recover. */
  latency: number[];
  /** Sent by the camera − exposed (ms): the camera's own part. */
  camera: number[];
}

/**
 * Ground truth for the frames a node recorded: the camera's log (exposure and send time, by the frame
 * number in each JPEG's COM tag) against the node's own stamp of the same frame in its sidecar. Verify
 * recovers the whole latency, stamp − exposure: the camera's part plus the way to the node (TCP, the
 * node's ffmpeg), which on a loaded machine is a millisecond or more.
 */
function truthLatencies(run: RunningNode, camera: TimecodeCamera, batches: BatchReady[]): Truth {
  const sent = camera.sent();
  const truth: Truth = { latency: [], camera: [] };
  for (const b of batches) {
    const numbers = frameNumbers(mjpegBytes(path.join(run.dataDir, b.file)));
    const rows = parseSidecar(readFileSync(path.join(run.dataDir, b.frames_file), "utf8"), b.file, b.seq);
    assert.equal(rows.length, numbers.length, `${b.file}: a sidecar row per frame`);
    for (const [i, n] of numbers.entries()) {
      const f = sent.get(n);
      assert.ok(f, `frame ${n} is in the camera's log`);
      truth.latency.push((rows[i]!.rawEpochUs - f.captureUs) / 1000);
      truth.camera.push((f.sentUs - f.captureUs) / 1000);
    }
  }
  truth.latency.sort((a, b) => a - b);
  truth.camera.sort((a, b) => a - b);
  return truth;
}

test("labx verify recovers each camera's latency to 10 µs, aligns them within a frame, and --save corrects the next session", async (t) => {
  const rig = await startTimecodeRig(CAMERAS, { fps: FPS, batchDuration: 2 });
  const { broker, rec, cameras, nodes } = rig;
  try {
    await rig.record("tc1", 6);
    const folders = nodes.map((n) => path.join(n.dataDir, "tc1"));
    const { code, cert } = await verify(folders);
    assert.equal(code, 0);
    assert.equal(cert.session, "tc1");
    for (const [i, c] of CAMERAS.entries()) {
      const batches: BatchReady[] = rec
        .jsonOn<BatchReady>(`labx/${c.node}/batch`)
        .filter((b) => b.session === "tc1");
      const truth = truthLatencies(nodes[i]!, cameras[i]!, batches);
      const n = cert.nodes[c.node]!;
      const frames: number = batches.reduce((s, b) => s + b.frames, 0);
      // Every frame shows a code, and every one is read.
      assert.equal(n.frames_scanned, frames, `${c.node}: frames decoded by ffmpeg`);
      assert.equal(n.frames_decoded, frames, `${c.node}: a code read in every frame`);
      assert.ok(n.latency, `${c.node} has a latency`);
      const truthP50 = quantile(truth.latency, 0.5);
      const cameraP50 = quantile(truth.camera, 0.5);
      t.diagnostic(
        `${c.node}: verify p50 ${n.latency.p50_ms} ms, stamped − exposed ${truthP50.toFixed(3)} ms over the same ${truth.latency.length} frames (Δ ${(n.latency.p50_ms - truthP50).toFixed(3)} ms); the camera's own part ${cameraP50.toFixed(3)} ms`,
      );
      assert.ok(
        Math.abs(n.latency.p50_ms - truthP50) <= 0.01,
        `${c.node}: p50 ${n.latency.p50_ms} ms against ${truthP50} ms stamped − exposed`,
      );
      assert.ok(truthP50 >= cameraP50, `${c.node}: the node stamps frames after the camera sends them`);
      assert.ok(
        Math.abs(n.latency.p50_ms - c.latencyMs) <= c.jitterMs,
        `${c.node}: near the configured latency`,
      );
      assert.equal(n.applied_latency_ms, null);
    }
    const [pair] = cert.pairs;
    assert.ok(pair && pair.a === "CAM40" && pair.b === "CAM90");
    assert.ok(Math.abs(pair.raw_offset_ms - -50) <= 3, `raw offset ${pair.raw_offset_ms} ms`);
    assert.ok(pair.raw_p99_ms > PERIOD_MS, "uncorrected, the cameras are more than a frame apart");
    assert.ok(pair.corrected_p99_ms <= PERIOD_MS, `corrected p99 ${pair.corrected_p99_ms} ms`);
    t.diagnostic(
      `raw offset ${pair.raw_offset_ms} ms (|Δ| p99 ${pair.raw_p99_ms}); corrected |Δ| p50 ${pair.corrected_p50_ms}, p99 ${pair.corrected_p99_ms}, max ${pair.corrected_max_ms} ms; one frame ${PERIOD_MS.toFixed(3)} ms`,
    );
    assert.equal(cert.alignment.corrected_p99_ms, pair.corrected_p99_ms);
    for (const dir of folders) {
      const written = JSON.parse(
        readFileSync(path.join(dir, "sync-certificate.json"), "utf8"),
      ) as SyncCertificate;
      assert.deepEqual(written, cert, "the certificate in the session folder is the one printed");
      const png = readFileSync(path.join(dir, "sync-certificate.png"));
      assert.equal(png.subarray(1, 4).toString(), "PNG");
      assert.ok(existsSync(path.join(dir, "sync-certificate.svg")));
      assert.match(
        readFileSync(path.join(dir, "sync-certificate.svg"), "utf8"),
        /CAM40: latency p50 [\d.]+ ms/,
      );
    }

    // A batch whose sidecar does not list every frame of its file cannot be timed: it is skipped, said.
    const copy = path.join(tempDir(), "tc1");
    cpSync(folders[0]!, copy, { recursive: true });
    const first = rec.jsonOn<BatchReady>("labx/CAM40/batch").find((b) => b.session === "tc1")!;
    const sidecarFile = path.join(copy, path.basename(first.frames_file));
    writeFileSync(
      sidecarFile,
      readFileSync(sidecarFile, "utf8").trim().split("\n").slice(0, -1).join("\n") + "\n",
    );
    const tampered = await verify([copy, folders[1]!, "--out", tempDir()]);
    assert.equal(tampered.code, 0);
    assert.match(
      tampered.stderr,
      new RegExp(
        `CAM40: tc1/${path.basename(first.file)} decodes to ${first.frames} frames but its sidecar lists ${first.frames - 1}: skipped`,
      ),
    );
    assert.equal(tampered.cert.nodes.CAM40!.frames_decoded, cert.nodes.CAM40!.frames_decoded - first.frames);

    // --save: each node keeps its median latency and says so in its state.
    const saved = await verify([...folders, "--save", "--broker-url", broker.url, "--out", tempDir()]);
    assert.equal(saved.code, 0, saved.stderr);
    for (const c of CAMERAS) {
      assert.match(saved.stderr, new RegExp(`${c.node} keeps a latency of [\\d.]+ ms`));
      const state: NodeState = await rec.waitFor(
        () =>
          rec
            .jsonOn<NodeState>(`labx/${c.node}/state`)
            .filter((st) => st.latency_ms !== undefined)
            .at(-1),
        10_000,
        `${c.node}'s state with its latency`,
      );
      assert.equal(state.latency_source, "verify");
      assert.ok(Math.abs(state.latency_ms! - saved.cert.nodes[c.node]!.latency!.p50_ms) <= 0.001);
    }

    // The next session is corrected: its times are the exposures', the stamped ones kept beside them.
    const at2 = await rig.record("tc2", 4);
    const folders2 = nodes.map((n) => path.join(n.dataDir, "tc2"));
    for (const [i, c] of CAMERAS.entries()) {
      const latencyMs = saved.cert.nodes[c.node]!.latency!.p50_ms;
      const batches: BatchReady[] = rec
        .jsonOn<BatchReady>(`labx/${c.node}/batch`)
        .filter((b) => b.session === "tc2");
      assert.ok(batches.length >= 2);
      for (const b of batches) {
        assert.equal(b.latency_ms, latencyMs);
        assert.equal(isoUs(b.raw_start!) - isoUs(b.start), Math.round(latencyMs * 1000));
        assert.equal(isoUs(b.raw_end!) - isoUs(b.end), Math.round(latencyMs * 1000));
        const text = readFileSync(path.join(nodes[i]!.dataDir, b.frames_file), "utf8");
        assert.ok(text.startsWith("frame,batch_frame,pts_s,epoch_s,time_utc,raw_epoch_s\n"));
        for (const r of parseSidecar(text, b.file, b.seq))
          assert.equal(r.rawEpochUs - r.epochUs, Math.round(latencyMs * 1000));
      }
      // The synchronized start keeps the frames exposed from `at` on: stamped from at + latency.
      const startUs = isoUs(batches[0]!.start);
      assert.ok(startUs >= at2 * 1000, `${c.node} starts ${(startUs - at2 * 1000) / 1000} ms after at`);
      assert.ok(startUs - at2 * 1000 <= (PERIOD_MS + 2 * c.jitterMs) * 1000);
    }
    const after = await verify(folders2);
    assert.equal(after.code, 0);
    for (const [i, c] of CAMERAS.entries()) {
      const n = after.cert.nodes[c.node]!;
      const applied = saved.cert.nodes[c.node]!.latency!.p50_ms;
      assert.equal(n.applied_latency_ms, applied);
      // What is left is the latency's own change between the sessions (the cameras' jitter draws other values).
      const batches = rec.jsonOn<BatchReady>(`labx/${c.node}/batch`).filter((b) => b.session === "tc2");
      const truth = quantile(truthLatencies(nodes[i]!, cameras[i]!, batches).latency, 0.5);
      t.diagnostic(
        `${c.node} corrected by ${applied} ms: residual ${n.residual_p50_ms} ms, the latency's own change ${(truth - applied).toFixed(3)} ms`,
      );
      assert.ok(
        Math.abs(n.residual_p50_ms! - (truth - applied)) <= 0.01,
        `${c.node}: ${n.residual_p50_ms} ms left after the correction; the latency's own change: ${truth - applied} ms`,
      );
    }
    assert.ok(after.cert.alignment.corrected_p99_ms! <= PERIOD_MS);

    // labx align indexes the corrected times.
    const from = tempDir();
    for (const [i, c] of CAMERAS.entries()) symlinkSync(nodes[i]!.dataDir, path.join(from, c.node));
    const out = tempDir();
    const align = runCli(["align", "tc2", "--from", from, "--out", out]);
    assert.equal((await exitedWithin(align, 60_000, "labx align")).code, 0, align.stderr());
    const rows = readFileSync(path.join(out, "timeline.csv"), "utf8").trim().split("\n").slice(1);
    const b0 = rec.jsonOn<BatchReady>("labx/CAM90/batch").find((b) => b.session === "tc2")!;
    const sidecar = parseSidecar(
      readFileSync(path.join(nodes[1]!.dataDir, b0.frames_file), "utf8"),
      b0.file,
      0,
    );
    // Every row of that batch: the frame's corrected time, as its sidecar has it. (Its frame 0 need not
    // be on the timeline: a tick takes the nearest frame, which may be frame 1.)
    const indexed = rows.map((r) => r.split(",")).filter((r) => r[2] === "CAM90" && r[3] === b0.file);
    assert.ok(indexed.length > 0, `no row of ${b0.file} in timeline.csv`);
    for (const r of indexed) assert.equal(epochTextUs(r[6]!), sidecar[Number(r[4])]!.epochUs, r.join(","));
  } finally {
    await rig.stop();
  }
});
