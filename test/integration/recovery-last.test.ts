import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { buildFfmpegArgs } from "../../node/ffmpeg/ffmpeg-args.js";
import { parseInputStart } from "../../node/ffmpeg/ffmpeg-output.js";
import { readManifest } from "../../node/data/manifest.js";
import { batchFileName, batchFilePattern } from "../../node/data/paths.js";
import { recoverSessions } from "../../node/data/recovery.js";
import { TIMELINE_FILE } from "../../node/data/session-files.js";
import { FFMPEG, tempDir } from "../helpers/node.js";
import { testChildEnv } from "../helpers/child-env.js";
import { systemClock } from "../../platform/clock.js";

// A node killed -9 just after ffmpeg opened a new batch: the timeline lists that batch's first frames,
// but none reached its file. Recovery drops the empty batch; the one before it is the session's last.
// Real ffmpeg records the session; the kill's aftermath is made by hand (the batch's list entry and
// its file's content removed), so the case is exact instead of a race.
describe("recovery: the session's last batch", () => {
  it("is the last one with a frame on disk when the kill left the final batch empty", async () => {
    const dataDir = tempDir();
    const dir = path.join(dataDir, "cut");
    mkdirSync(dir);
    const args = buildFfmpegArgs({
      camera: "synthetic",
      videoSize: "160x120",
      framerate: 30,
      inputFormat: "mjpeg",
      codec: "auto",
      batchDuration: 1,
      duration: 2.5,
      filePattern: batchFilePattern("N1", "cut"),
    });
    const { stdout, stderr, status } = spawnSync(FFMPEG, args, { cwd: dir, encoding: "utf8" });
    assert.equal(status, 0, stderr);
    const anchor = stderr
      .split("\n")
      .map(parseInputStart)
      .find((x) => x !== null);
    assert.ok(anchor, "ffmpeg printed its input's start");
    const lines = stdout.split("\n");
    // Batch 2's list entry never came: drop it, and empty its file as the kill left it.
    const seg2 = lines.findIndex((l) => l.startsWith(batchFileName("N1", "cut", 2)));
    assert.ok(seg2 > 0, "ffmpeg listed three batches");
    writeFileSync(path.join(dir, TIMELINE_FILE), lines.filter((_, i) => i !== seg2).join("\n"));
    truncateSync(path.join(dir, batchFileName("N1", "cut", 2)), 0);
    writeFileSync(
      path.join(dir, "attempts.jsonl"),
      JSON.stringify({
        attempt: 0,
        timeline: TIMELINE_FILE,
        anchor_us: anchor,
        first_seq: 0,
        mux_shift: true,
      }) + "\n",
    );
    const announced: BatchReady[] = [];
    const done = await recoverSessions({
      dataDir,
      node: "N1",
      ffmpegPath: FFMPEG,
      childEnv: testChildEnv,
      redact: (text) => text,
      log: pino({ level: "silent" }),
      announce: async (b) => void announced.push(b),
      publishEvent: () => {},
      syncStatus: () => ({ synced: false, reason: "test" }),
      settleMs: 0,
      clock: systemClock(),
    });
    assert.deepEqual(done, ["cut"]);
    const manifest = readManifest(path.join(dir, "manifest.jsonl"));
    assert.deepEqual(
      manifest.map((b) => [b.seq, b.last === true]),
      [
        [0, false],
        [1, true],
      ],
      "batch 2 held no frame: batch 1 is the last",
    );
    assert.deepEqual(announced, manifest);
    assert.equal(JSON.parse(readFileSync(path.join(dir, "session-end.json"), "utf8")).batches, 2);
  });
});
