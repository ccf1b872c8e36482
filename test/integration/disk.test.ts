import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest } from "../../node/batches/manifest.js";
import type { BatchReady, NodeEvent, NodeState } from "../../node/generated/payloads.js";
import { withNode } from "../helpers/harness.js";
import { assertPlayable, countFrames } from "../helpers/media.js";
import { tempDir } from "../helpers/node.js";

/** A real small filesystem: a 24 MiB tmpfs (needs root, as in CI here); skipped with the reason otherwise. */
function mountSmallFs(): { dir: string; unmount: () => void } | string {
  const dir = tempDir("labx-smallfs-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", dir], { stdio: "pipe" });
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
});
