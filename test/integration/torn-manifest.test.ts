import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { readManifest, readManifestLines } from "../../node/data/manifest.js";
import { SESSION_END_FILE } from "../../node/data/session-files.js";
import type { BatchReady, NodeEvent } from "../../contract/generated/payloads.js";
import { withNode } from "../helpers/harness.js";
import { tempDir } from "../helpers/node.js";

// A power cut or a full disk while the manifest's last line is written leaves half a line. The node
// must start anyway, finish the session from ffmpeg's timeline, and lose no batch.
describe("a torn manifest line (real aedes, real ffmpeg)", () => {
  it("the next start recovers the session: the torn batch is finalized again, every batch listed once", async () => {
    const dataDir = tempDir();
    let recorded: BatchReady[] = [];
    await withNode(
      { sbc_id: "TORN", data_dir: dataDir, batch_duration: 1, disable_sync: true },
      async (h) => {
        assert.equal((await h.rec.command("labx", "TORN", "TORN", { cmd: "start", session: "t" })).ok, true);
        await h.rec.waitFor(() => h.rec.jsonOn<BatchReady>("labx/TORN/batch")[2], 30_000, "three batches");
        assert.equal((await h.rec.command("labx", "TORN", "TORN", { cmd: "stop" })).ok, true);
        recorded = readManifest(path.join(dataDir, "t", "manifest.jsonl"));
      },
    );
    assert.ok(recorded.length >= 3);
    // As a power cut leaves it: the last line half written, the session never marked ended.
    const manifestFile = path.join(dataDir, "t", "manifest.jsonl");
    const lines = readFileSync(manifestFile, "utf8").trimEnd().split("\n");
    const torn = lines.at(-1)!;
    writeFileSync(manifestFile, [...lines.slice(0, -1), torn.slice(0, torn.length / 2)].join("\n"));
    rmSync(path.join(dataDir, "t", SESSION_END_FILE));
    assert.equal(readManifestLines(manifestFile).skipped, 1);

    await withNode(
      { sbc_id: "TORN", data_dir: dataDir, batch_duration: 1, disable_sync: true },
      async (h) => {
        const ended = await h.rec.waitFor(
          () =>
            h.rec
              .jsonOn<NodeEvent>("labx/TORN/event")
              .find((e) => e.type === "session_ended" && e.session === "t"),
          30_000,
          "the recovered session's end",
        );
        assert.equal(ended.reason, "interrupted");
        const again = await h.rec.waitFor(
          () => h.rec.jsonOn<BatchReady>("labx/TORN/batch").find((b) => b.seq === recorded.at(-1)!.seq),
          30_000,
          "the torn batch announced again",
        );
        assert.equal(again.sha256, recorded.at(-1)!.sha256, "the same file, hashed again");
        assert.equal(again.start, recorded.at(-1)!.start);
        assert.equal(again.frames, recorded.at(-1)!.frames);
        const after = readManifestLines(manifestFile);
        assert.deepEqual(
          after.items.map((b) => b.seq),
          recorded.map((b) => b.seq),
          "every batch listed once, in order",
        );
        assert.equal(after.skipped, 1, "only the torn half line is left out");
        assert.equal(h.run.node.state.state, "idle");
      },
    );
  });
});
