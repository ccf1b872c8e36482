import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest, readManifestLines } from "../../node/data/manifest.js";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import { withNode } from "../helpers/harness.js";
import { assertPlayable, countFrames, sha256 } from "../helpers/media.js";
import { tempDir } from "../helpers/node.js";

/** A real small filesystem: a 24 MiB tmpfs (needs root, as in CI here); skipped with the reason otherwise. */
function mountSmallFs(options = "size=24m"): { dir: string; unmount: () => void } | string {
  const dir = tempDir("labx-smallfs-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]}`;
  }
  return {
    dir,
    unmount: () => {
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("a filesystem filling up during a recording", () => {
  const fs = mountSmallFs();
  it(
    "stops the session cleanly below --stop-free-mb: disk_low event, every batch kept and announced, then DISK_FULL for a new start",
    { skip: typeof fs === "string" ? fs : false },
    async () => {
      if (typeof fs === "string") return;
      try {
        await withNode(
          {
            sbc_id: "DISK",
            data_dir: fs.dir,
            video_size: "1280x720",
            batch_duration: 1,
            min_free_mb: 14,
            stop_free_mb: 12,
            disk_check_interval: 0.5,
            disable_sync: true,
          },
          async ({ rec }) => {
            assert.equal(
              (await rec.command("labx", "DISK", "DISK", { cmd: "start", session: "fill" })).ok,
              true,
            );
            const low = await rec.waitFor(
              () => rec.jsonOn<NodeEvent>("labx/DISK/event").find((e) => e.type === "disk_low"),
              60_000,
              "disk_low",
            );
            assert.ok(low.free_mb! < 12);
            const ended = await rec.waitFor(
              () => rec.jsonOn<NodeEvent>("labx/DISK/event").find((e) => e.type === "session_ended"),
              30_000,
              "session_ended",
            );
            assert.equal(ended.reason, "disk_full");
            assert.equal(
              rec.jsonOn<NodeEvent>("labx/DISK/event").filter((e) => e.type === "recorder_failed").length,
              0,
            );
            assert.equal(rec.jsonOn<NodeState>("labx/DISK/state").at(-1)!.state, "idle");
            const batches = rec.jsonOn<BatchReady>("labx/DISK/batch");
            assert.ok(batches.length >= 3);
            assert.deepEqual(
              batches,
              readManifest(path.join(fs.dir, "fill", "manifest.jsonl")),
              "manifest intact",
            );
            assert.ok(batches.at(-1)!.last);
            for (const b of batches) {
              assertPlayable(path.join(fs.dir, b.file));
              assert.equal(countFrames(path.join(fs.dir, b.file)), b.frames);
            }
            const again = await rec.command("labx", "DISK", "DISK", { cmd: "start", session: "more" });
            assert.equal(again.code, "DISK_FULL");
          },
        );
      } finally {
        fs.unmount();
      }
    },
  );

  const inodes = mountSmallFs("size=64m,nr_inodes=64");
  it(
    "the disk fills under the node's own files (no inode left for a sidecar): the session ends disk_full in error, nothing is lost, the next start lists the rest",
    { skip: typeof inodes === "string" ? inodes : false },
    async () => {
      if (typeof inodes === "string") return;
      const cfg = {
        sbc_id: "INODE",
        data_dir: inodes.dir,
        batch_duration: 1,
        min_free_mb: 1,
        stop_free_mb: 0,
        disable_sync: true,
      };
      const session = path.join(inodes.dir, "full");
      const filler = path.join(inodes.dir, "filler");
      try {
        await withNode(cfg, async ({ rec }) => {
          assert.equal(
            (await rec.command("labx", "INODE", "INODE", { cmd: "start", session: "full" })).ok,
            true,
          );
          await rec.waitFor(() => rec.jsonOn<BatchReady>("labx/INODE/batch")[0], 30_000, "the first batch");
          // One inode left: ffmpeg takes it for its next batch file, then the node's sidecar finds none.
          mkdirSync(filler);
          for (let i = 0; statfsSync(inodes.dir).ffree > 1; i++)
            writeFileSync(path.join(filler, String(i)), "");
          const ended = await rec.waitFor(
            () => rec.jsonOn<NodeEvent>("labx/INODE/event").find((e) => e.type === "session_ended"),
            30_000,
            "session_ended",
          );
          assert.equal(ended.reason, "disk_full");
          assert.equal(ended.level, "error");
          const full = rec.jsonOn<NodeEvent>("labx/INODE/event").find((e) => e.type === "disk_low");
          assert.ok(full, "a disk event");
          assert.equal(full.level, "error");
          assert.match(full.message, /disk full: batch 1 could not be finalized/);
          const state = await rec.waitFor(
            () => rec.jsonOn<NodeState>("labx/INODE/state").find((s) => s.state === "error"),
            10_000,
            "state error",
          );
          assert.match(String(state.error), /disk full/);
          assert.equal(
            rec.jsonOn<NodeEvent>("labx/INODE/event").filter((e) => e.type === "recorder_restarted").length,
            0,
          );
          const listed = readManifestLines(path.join(session, "manifest.jsonl"));
          assert.equal(listed.skipped, 0, "no line torn");
          assert.deepEqual(
            listed.items.map((b) => b.seq),
            [0],
          );
          for (const b of listed.items) assert.equal(sha256(path.join(inodes.dir, b.file)), b.sha256);
        });
        // Room again: the next start lists what the full disk left unlisted, contiguous with the rest.
        rmSync(filler, { recursive: true });
        await withNode(cfg, async ({ rec }) => {
          await rec.waitFor(
            () => rec.jsonOn<NodeEvent>("labx/INODE/event").find((e) => e.type === "session_ended"),
            30_000,
            "recovery",
          );
          const batches = readManifest(path.join(session, "manifest.jsonl"));
          assert.deepEqual(
            batches.map((b) => b.seq),
            [0, 1, 2],
          );
          for (let i = 1; i < batches.length; i++) assert.equal(batches[i]!.start, batches[i - 1]!.end);
          for (const b of batches) {
            assertPlayable(path.join(inodes.dir, b.file));
            assert.equal(countFrames(path.join(inodes.dir, b.file)), b.frames);
          }
        });
      } finally {
        inodes.unmount();
      }
    },
  );
});
