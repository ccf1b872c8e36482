import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest } from "../../node/data/manifest.js";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { assertContract } from "../helpers/contract.js";
import { frameNumbers } from "../helpers/fake-camera.js";
import { startFakeCamera } from "../helpers/fake-camera-process.js";
import { withNode } from "../helpers/harness.js";
import { assertPlayable, countFrames, epochUs } from "../helpers/media.js";
import { processesIn, waitForProcessIn } from "../helpers/processes.js";
import type { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { resolveFfmpeg } from "../../node/ffmpeg/ffmpeg-path.js";
import { timelineFile } from "../../node/data/session-files.js";

const FPS = 30;
const isoUs = (s: string): number => {
  const m = /\.(\d{6})Z$/.exec(s)!;
  return Math.floor(Date.parse(s) / 1000) * 1_000_000 + Number(m[1]);
};

/** Frames a run's timeline reports after its last closed batch (framecrc lines "0, ..."). */
function timelineFrames(timeline: string): number {
  const lines = readFileSync(timeline, "utf8").split("\n");
  const closed = lines.findLastIndex((l) => l.includes(".mkv,"));
  return lines.slice(closed + 1).filter((l) => /^0,/.test(l)).length;
}

/** The node's session_ended event, waited for up to `ms`. */
function sessionEnded(rec: MqttRecorder, node: string, ms: number): Promise<NodeEvent> {
  return rec.waitFor(
    () => rec.jsonOn<NodeEvent>(`labx/${node}/event`).find((e) => e.type === "session_ended"),
    ms,
    `${node}'s session_ended`,
  );
}

const waitForFfmpeg = (dir: string, timeoutMs = 20_000): Promise<number> =>
  waitForProcessIn(dir, "ffmpeg", timeoutMs);

/**
 * An ffmpeg killed -9 inside the 200 ms between a new batch's first frame and its first flushed
 * cluster (the kill cannot be timed from outside): a wrapper around the real ffmpeg does it
 * (test/helpers/ffmpeg-dies-at-batch-open.ts); `marker` appears at the kill. With `kills` > 1 the
 * runs after the first are killed at their first frame, before it reaches the file.
 */
function diesAtBatchOpen(kills = 1): { marker: string; wrapper: string } {
  const tmp = mkdtempSync(path.join(tmpdir(), "labx-dies-"));
  const marker = path.join(tmp, "killed");
  const wrapper = path.join(tmp, "ffmpeg");
  const helper = path.resolve("test/helpers/ffmpeg-dies-at-batch-open.ts");
  const real = resolveFfmpeg({ configured: null, envPath: process.env.PATH });
  writeFileSync(
    wrapper,
    `#!/bin/sh\nLABX_REAL_FFMPEG='${real}' LABX_MARKER='${marker}' LABX_KILLS=${kills} exec '${process.execPath}' --import '${import.meta.resolve("tsx")}' '${helper}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return { marker, wrapper };
}

describe("ffmpeg killed -9 mid-session (a real kill of the real process)", () => {
  it("restarts it, announces the repaired partial batch, and a gap event whose window holds exactly the frames missing", async (t) => {
    const camera = await startFakeCamera(FPS);
    try {
      await withNode(
        {
          sbc_id: "CRASH",
          camera: camera.url,
          stream_format: "mjpeg",
          batch_duration: 2,
          disable_sync: true,
        },
        async ({ rec, run }) => {
          assert.equal(
            (await rec.command("labx", "CRASH", "CRASH", { cmd: "start", session: "k9" })).ok,
            true,
          );
          const dir = path.join(run.dataDir, "k9");
          await rec.waitFor(() => rec.jsonOn("labx/CRASH/batch")[0], 20_000, "first batch");
          // Mid-batch: about 1 s into the second batch.
          await new Promise((r) => setTimeout(r, 1000));
          const pid = await waitForFfmpeg(dir);
          process.kill(pid, "SIGKILL");
          const gap = await rec.waitFor(
            () => rec.jsonOn<NodeEvent>("labx/CRASH/event").find((e) => e.type === "gap"),
            20_000,
            "gap event",
          );
          const restarted = rec
            .jsonOn<NodeEvent>("labx/CRASH/event")
            .find((e) => e.type === "recorder_restarted");
          assert.ok(restarted, "a recorder_restarted event");
          assert.notEqual(await waitForFfmpeg(dir), pid, "a new ffmpeg");
          // Two full batches after the restart, then stop.
          const seqAtGap = Math.max(...rec.jsonOn<BatchReady>("labx/CRASH/batch").map((b) => b.seq));
          await rec.waitFor(
            () =>
              rec.jsonOn<BatchReady>("labx/CRASH/batch").some((b) => b.seq >= seqAtGap + 2)
                ? true
                : undefined,
            20_000,
            "batches after the restart",
          );
          assert.equal((await rec.command("labx", "CRASH", "CRASH", { cmd: "stop" })).ok, true);
          const state = rec.jsonOn<NodeState>("labx/CRASH/state").at(-1)!;
          assert.equal(state.state, "idle", "a restart is not an error");

          const batches = rec.jsonOn<BatchReady>("labx/CRASH/batch");
          assert.deepEqual(
            batches,
            readManifest(path.join(dir, "manifest.jsonl")),
            "all announced, in order",
          );
          assert.deepEqual(
            batches.map((b) => b.seq),
            batches.map((_, i) => i),
            "numbering continues across the restart",
          );
          const repaired = batches.filter((b) => b.recovered);
          assert.equal(repaired.length, 1, "the batch ffmpeg was writing is repaired");
          for (const b of batches) {
            const file = path.join(run.dataDir, b.file);
            assertPlayable(file);
            assert.equal(countFrames(file), b.frames, `${b.file}: frames`);
          }
          // Contiguous except at the announced gap, which is exactly between the repaired batch and the next.
          const r = batches.indexOf(repaired[0]!);
          for (let i = 1; i < batches.length; i++) {
            if (i === r + 1) {
              assert.equal(gap.gap_start, batches[r]!.end, "the gap starts where the repaired batch ends");
              assert.equal(gap.gap_end, batches[i]!.start, "and ends at the next batch's first frame");
            } else assert.equal(batches[i]!.start, batches[i - 1]!.end, `batch ${i} follows on`);
          }
          // The restarted ffmpeg keeps the session's grid: every batch but the one the restart opened
          // starts at the first frame at or after a boundary first start + k × 2 s, which the batch
          // before it (its frame times from the sidecar) stays below.
          const zero = isoUs(batches[0]!.start);
          const lastFrameUs = (b: BatchReady): number => {
            const rows = readFileSync(path.join(run.dataDir, b.file.replace(/\.mkv$/, ".frames.csv")), "utf8")
              .trim()
              .split("\n");
            return epochUs(rows.at(-1)!.split(",")[3]!);
          };
          for (const [i, b] of batches.entries()) {
            if (i === 0 || i === r + 1) continue;
            const boundary = zero + Math.floor((isoUs(b.start) - zero) / 2_000_000) * 2_000_000;
            assert.ok(
              lastFrameUs(batches[i - 1]!) < boundary,
              `batch ${i} starts at the first frame after the session's boundary ${boundary - zero} µs`,
            );
          }
          // Ground truth: the camera frames missing from the files are exactly those sent inside the window.
          const sent = camera.sent();
          const inFiles = new Set(
            batches.flatMap((b) => frameNumbers(readFileSync(path.join(run.dataDir, b.file)))),
          );
          const first = Math.min(...inFiles);
          const last = Math.max(...inFiles);
          const [from, to] = [isoUs(gap.gap_start!), isoUs(gap.gap_end!)];
          // The first frame after the restart is stamped when the new ffmpeg reads it, which can trail
          // its send time by some ms (connection set-up, probing); within the window everything is
          // gone, outside it nothing is. Edges: 2 ms at the start, that frame's own stamping delay at the end.
          const firstAfter = batches[r + 1]!;
          const firstAfterN = frameNumbers(readFileSync(path.join(run.dataDir, firstAfter.file)))[0]!;
          const endSlack = Math.max(2000, to - sent.get(firstAfterN)!);
          const missing: number[] = [];
          for (let n = first; n <= last; n++) if (!inFiles.has(n)) missing.push(n);
          // When the repair lost frames the killed ffmpeg had received, the window opens at the first
          // of them as it was stamped on arrival (batch-finalizer.ts): that edge allows that frame's own
          // stamping delay, as the other edge does its frame's, within a frame period (asserted below).
          const startSlack =
            gap.frames_lost! > 0 && sent.has(missing[0]!)
              ? Math.max(2000, from - sent.get(missing[0]!)!)
              : 2000;
          const inWindow: number[] = [];
          for (let n = first; n <= last; n++) {
            // Frames the camera sent while no ffmpeg listened are absent from its log: due at n/fps.
            const t = sent.get(n) ?? sent.get(first)! + ((n - first) * 1e6) / FPS;
            if (t >= from - startSlack && t < to - endSlack) inWindow.push(n);
          }
          assert.ok(missing.length > 0, "a kill loses frames");
          t.diagnostic(
            `gap ${gap.gap_s} s (kill to first frame of the new ffmpeg), ${missing.length} camera frames missing, ${gap.frames_lost} of them received by the killed ffmpeg but not written; first frame after the restart stamped ${((to - sent.get(firstAfterN)!) / 1000).toFixed(1)} ms after it was sent`,
          );
          assert.ok(
            endSlack < 1e6 / FPS,
            "the first frame after the restart is stamped within a frame period",
          );
          assert.ok(
            startSlack < 1e6 / FPS,
            "the first frame the repair lost was stamped within a frame period",
          );
          assert.deepEqual(missing, inWindow, "missing frames = frames inside the gap window");
          assert.ok(
            gap.frames_lost! <= missing.length,
            "frames_lost counts frames ffmpeg had but did not write",
          );
          assert.ok(assertContract(rec.messages, "labx", "CRASH") > 0);
        },
      );
    } finally {
      camera.stop();
    }
  });

  it("after more failures than --restart-attempts, the session ends in state error with the reason, without looping", async () => {
    await withNode(
      { sbc_id: "FLAKY", batch_duration: 1, disable_sync: true, restart_attempts: 2 },
      async ({ rec, run }) => {
        assert.equal(
          (await rec.command("labx", "FLAKY", "FLAKY", { cmd: "start", session: "flaky" })).ok,
          true,
        );
        const dir = path.join(run.dataDir, "flaky");
        for (let kill = 0; kill < 3; kill++) {
          const pid = await waitForFfmpeg(dir);
          // Let it record a little, then kill it.
          await new Promise((r) => setTimeout(r, 700));
          process.kill(pid, "SIGKILL");
          await rec.waitFor(
            () =>
              rec.jsonOn<NodeState>("labx/FLAKY/state").at(-1)!.state !== "recording" ||
              processesIn(dir, "ffmpeg").every((p) => p !== pid)
                ? true
                : undefined,
            10_000,
            "ffmpeg gone",
          );
        }
        const state = await rec.waitFor(
          () => rec.jsonOn<NodeState>("labx/FLAKY/state").find((s) => s.state === "error"),
          20_000,
          "state error",
        );
        assert.match(state.error ?? "", /ffmpeg failed 3 times/);
        await sessionEnded(rec, "FLAKY", 10_000);
        const events = rec.jsonOn<NodeEvent>("labx/FLAKY/event");
        assert.equal(events.filter((e) => e.type === "recorder_restarted").length, 2);
        assert.equal(events.filter((e) => e.type === "recorder_failed").length, 1);
        assert.deepEqual(processesIn(dir, "ffmpeg"), [], "no ffmpeg left running");
        const batches = rec.jsonOn<BatchReady>("labx/FLAKY/batch");
        assert.deepEqual(
          batches.map((b) => b.last === true),
          batches.map((_, i) => i === batches.length - 1),
          "the final batch, and only it, is marked last",
        );
        assert.deepEqual(batches, readManifest(path.join(dir, "manifest.jsonl")));
        const ended = events.find((e) => e.type === "session_ended")!;
        assert.equal(ended.batches, batches.length);
        assert.equal(ended.reason, "failed");
      },
    );
  });
  it("ffmpeg killed just after opening a batch: that empty batch is dropped and the restarted ffmpeg reuses its number", async () => {
    const { marker, wrapper } = diesAtBatchOpen();
    await withNode(
      { sbc_id: "OPEN", batch_duration: 1, disable_sync: true, ffmpeg_path: wrapper },
      async ({ rec, run }) => {
        assert.equal((await rec.command("labx", "OPEN", "OPEN", { cmd: "start", session: "o1" })).ok, true);
        await rec.waitFor(() => (existsSync(marker) ? true : undefined), 20_000, "the kill");
        const gap = await rec.waitFor(
          () => rec.jsonOn<NodeEvent>("labx/OPEN/event").find((e) => e.type === "gap"),
          20_000,
          "gap event",
        );
        await rec.waitFor(
          () => rec.jsonOn<BatchReady>("labx/OPEN/batch")[2],
          20_000,
          "batches after the restart",
        );
        assert.equal((await rec.command("labx", "OPEN", "OPEN", { cmd: "stop" })).ok, true);
        const dir = path.join(run.dataDir, "o1");
        const batches = rec.jsonOn<BatchReady>("labx/OPEN/batch");
        assert.deepEqual(batches, readManifest(path.join(dir, "manifest.jsonl")));
        const attempts = readFileSync(path.join(dir, "attempts.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { first_seq: number });
        // The killed run closed batch 0 and had opened batch 1 (its file held no frame): the new run starts at 1.
        assert.equal(attempts.length, 2);
        assert.equal(attempts[1]!.first_seq, 1, "the restarted ffmpeg reuses the dropped batch's number");
        assert.deepEqual(
          batches.map((b) => b.seq),
          batches.map((_, i) => i),
          "no hole in the numbering",
        );
        assert.equal(batches[1]!.start, gap.gap_end, "batch 1 is the restarted run's first");
        assert.equal(gap.gap_start, batches[0]!.end, "the gap starts where batch 0 ends");
        for (const b of batches) assert.equal(countFrames(path.join(run.dataDir, b.file)), b.frames, b.file);
      },
    );
  });
  it("ffmpeg dies just after opening a batch and is not restarted: the batch before that empty one is marked last", async () => {
    const { marker, wrapper } = diesAtBatchOpen();
    await withNode(
      { sbc_id: "LASTO", batch_duration: 1, disable_sync: true, ffmpeg_path: wrapper, restart_attempts: 0 },
      async ({ rec, run }) => {
        assert.equal((await rec.command("labx", "LASTO", "LASTO", { cmd: "start", session: "l1" })).ok, true);
        const ended = await sessionEnded(rec, "LASTO", 30_000);
        assert.ok(existsSync(marker), "the wrapper killed ffmpeg at a batch's opening");
        const dir = path.join(run.dataDir, "l1");
        const batches = rec.jsonOn<BatchReady>("labx/LASTO/batch");
        // The killed run closed batch 0 and had opened batch 1, whose file holds no frame: dropped.
        assert.equal(readFileSync(marker, "utf8").split(",")[0], path.basename(batches.at(-1)!.file));
        assert.deepEqual(
          batches.map((b) => [b.seq, b.last === true]),
          [[0, true]],
        );
        assert.deepEqual(batches, readManifest(path.join(dir, "manifest.jsonl")));
        assert.equal(ended.batches, 1);
        assert.equal(countFrames(path.join(run.dataDir, batches[0]!.file)), batches[0]!.frames);
      },
    );
  });
  it("the final run dies at its first frame, after a restart, with nothing on disk: the earlier run's last batch is marked last", async () => {
    const { marker, wrapper } = diesAtBatchOpen(2);
    await withNode(
      { sbc_id: "LASTR", batch_duration: 1, disable_sync: true, ffmpeg_path: wrapper, restart_attempts: 1 },
      async ({ rec, run }) => {
        assert.equal((await rec.command("labx", "LASTR", "LASTR", { cmd: "start", session: "r1" })).ok, true);
        const ended = await sessionEnded(rec, "LASTR", 30_000);
        const kills = readFileSync(marker, "utf8").trim().split("\n");
        assert.equal(kills.length, 2, "both runs were killed by the wrapper");
        assert.equal(kills[1], "first frame");
        const dir = path.join(run.dataDir, "r1");
        const events = rec.jsonOn<NodeEvent>("labx/LASTR/event");
        assert.equal(events.filter((e) => e.type === "recorder_restarted").length, 1);
        assert.equal(ended.reason, "failed");
        // The second run reported a frame but wrote none: nothing after the first run was recorded,
        // so no gap is told, and the first run's batch 0 (batch 1 was opened empty) is the last.
        assert.deepEqual(
          events.filter((e) => e.type === "gap"),
          [],
        );
        const batches = rec.jsonOn<BatchReady>("labx/LASTR/batch");
        assert.equal(kills[0]!.split(",")[0], path.basename(batches[0]!.file));
        assert.deepEqual(
          batches.map((b) => [b.seq, b.last === true]),
          [[0, true]],
        );
        assert.deepEqual(batches, readManifest(path.join(dir, "manifest.jsonl")));
        assert.equal(ended.batches, 1);
        const attempts = readFileSync(path.join(dir, "attempts.jsonl"), "utf8").trim().split("\n");
        assert.equal(
          attempts.length,
          2,
          "the second run's first frame was reported (its attempt is on record)",
        );
        assert.equal(countFrames(path.join(run.dataDir, batches[0]!.file)), batches[0]!.frames);
      },
    );
  });
  it("a restarted run that reuses a dropped batch's number and is killed with frames in it: that batch is repaired, listed and marked last", async () => {
    // Run 0 is killed as it opens batch 1 (the wrapper): batch 1 is dropped, run 1 records into a new
    // file of the same name. It is killed from here once that batch's frames are on disk.
    const { marker, wrapper } = diesAtBatchOpen(1);
    await withNode(
      { sbc_id: "REUSE", batch_duration: 3, disable_sync: true, ffmpeg_path: wrapper, restart_attempts: 1 },
      async ({ rec, run }) => {
        assert.equal((await rec.command("labx", "REUSE", "REUSE", { cmd: "start", session: "u1" })).ok, true);
        const dir = path.join(run.dataDir, "u1");
        const timeline = path.join(dir, timelineFile(1));
        // The restarted run's batch 1, 12 frames (400 ms) in: its first clusters are in the file.
        await rec.waitFor(
          () => (existsSync(timeline) && timelineFrames(timeline) >= 12 ? true : undefined),
          30_000,
          "the restarted run's frames",
        );
        assert.ok(
          !readFileSync(timeline, "utf8").includes(".mkv,"),
          "the restarted run's first batch is still open",
        );
        const [pid] = processesIn(dir, "ffmpeg");
        assert.ok(pid, "the restarted ffmpeg runs");
        process.kill(pid, "SIGKILL");
        const ended = await sessionEnded(rec, "REUSE", 30_000);
        assert.equal(ended.reason, "failed");
        const batches = rec.jsonOn<BatchReady>("labx/REUSE/batch");
        // The wrapper's kill: run 0 had closed batch 0 and opened batch 1.
        assert.equal(readFileSync(marker, "utf8").split(",")[0], path.basename(batches[0]!.file));
        assert.deepEqual(
          batches.map((b) => [b.seq, b.last === true]),
          [
            [0, false],
            [1, true],
          ],
          "batch 1 is the restarted run's, with its frames, and the last",
        );
        // Its frames in clusters already written are kept (the newest cluster died with ffmpeg).
        assert.ok(batches[1]!.frames > 0, "batch 1 holds the restarted run's frames");
        assert.deepEqual(batches, readManifest(path.join(dir, "manifest.jsonl")));
        assert.equal(ended.batches, 2);
        for (const b of batches) assert.equal(countFrames(path.join(run.dataDir, b.file)), b.frames, b.file);
      },
    );
  });
});
