import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Retention } from "../../node/data/retention.js";
import { OUTBOX_DIR } from "../../node/labx-node.js";
import { withNode } from "../helpers/harness.js";
import { tempDir } from "../helpers/node.js";
import { systemClock } from "../../platform/clock.js";

/** A finished session as a node leaves it, ended `days` ago, holding `mb` MiB. */
function fakeSession(dataDir: string, name: string, days: number, mb: number): void {
  const dir = path.join(dataDir, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, `X_${name}_00000.mkv`), Buffer.alloc(mb * 1048576));
  const ended = new Date(Date.now() - days * 86_400_000).toISOString();
  writeFileSync(
    path.join(dir, "session-end.json"),
    JSON.stringify({ reason: "stopped", batches: 1, ended_at: ended }),
  );
}

describe("retention on a running node (--retention-days, --max-usage)", () => {
  it("removes old finished sessions at start, keeps recent ones, the session recorded now, and any with undelivered batches", async () => {
    const dataDir = tempDir();
    fakeSession(dataDir, "old", 40, 1);
    fakeSession(dataDir, "recent", 2, 1);
    fakeSession(dataDir, "unsent", 60, 1);
    // An announcement of "unsent" still waits in the outbox journal from a previous run.
    mkdirSync(path.join(dataDir, OUTBOX_DIR));
    writeFileSync(
      path.join(dataDir, OUTBOX_DIR, "outbox.jsonl"),
      JSON.stringify({
        id: 0,
        topic: "labx/RET/batch",
        payload: JSON.stringify({ session: "unsent", seq: 0 }),
      }) + "\n",
    );
    await withNode(
      {
        sbc_id: "RET",
        data_dir: dataDir,
        retention_days: 30,
        max_usage_mb: 0,
        batch_duration: 1,
        disable_sync: true,
      },
      async ({ rec }) => {
        assert.equal(existsSync(path.join(dataDir, "old")), false, "40 days old: removed");
        assert.equal(existsSync(path.join(dataDir, "recent")), true, "2 days old: kept");
        assert.equal(existsSync(path.join(dataDir, "unsent")), true, "undelivered: kept");
        assert.equal((await rec.command("labx", "RET", "RET", { cmd: "start", session: "now" })).ok, true);
        await rec.waitFor(
          () => rec.jsonOn("labx/RET/batch").find((b) => b.session === "now"),
          20_000,
          "a batch",
        );
        // A pass while "now" records, with a limit the data directory is far above: every finished,
        // delivered session goes, the one being recorded (no session-end yet) must not.
        const removed = await new Retention({
          dataDir,
          policy: { retentionDays: 0, maxUsageBytes: 1 },
          undelivered: () => new Set(["unsent"]),
          log: pino({ level: "silent" }),
          clock: systemClock(),
        }).apply();
        assert.deepEqual(removed, ["recent"]);
        assert.equal(
          existsSync(path.join(dataDir, "now", "manifest.jsonl")),
          true,
          "the recording session is kept",
        );
        const before = rec.jsonOn("labx/RET/batch").length;
        await rec.waitFor(
          () => (rec.jsonOn("labx/RET/batch").length > before ? true : undefined),
          20_000,
          "recording goes on",
        );
        assert.equal((await rec.command("labx", "RET", "RET", { cmd: "stop" })).ok, true);
      },
    );
  });

  it("--max-usage removes the oldest finished sessions until the data directory fits", async () => {
    const dataDir = tempDir();
    for (const [name, days] of [
      ["a", 9],
      ["b", 8],
      ["c", 7],
      ["d", 6],
    ] as const)
      fakeSession(dataDir, name, days, 2);
    await withNode(
      { sbc_id: "RET2", data_dir: dataDir, retention_days: 0, max_usage_mb: 5, disable_sync: true },
      async () => {
        assert.deepEqual(
          ["a", "b", "c", "d"].filter((n) => existsSync(path.join(dataDir, n))),
          ["c", "d"],
          "8 MiB with a 5 MiB limit: the two oldest go",
        );
      },
    );
  });
});
