import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseRemovals, heldOverLimit, type SessionInfo } from "../../node/data/retention.js";

const DAY = 86_400_000;
const now = 100 * DAY;
const s = (name: string, endedDaysAgo: number | null, mb: number, undelivered = false): SessionInfo => ({
  name,
  bytes: mb * 1048576,
  endedAtMs: endedDaysAgo === null ? null : now - endedDaysAgo * DAY,
  undelivered,
});

describe("retention policy (pure)", () => {
  const sessions = [
    s("old", 10, 100),
    s("older", 20, 100),
    s("recent", 1, 100),
    s("current", null, 100),
    s("unsent", 30, 100, true),
  ];

  it("removes nothing when both limits are off", () => {
    assert.deepEqual(chooseRemovals(sessions, now, { retentionDays: 0, maxUsageBytes: 0 }), []);
  });

  it("by age: finished and delivered sessions older than the limit, oldest first", () => {
    assert.deepEqual(chooseRemovals(sessions, now, { retentionDays: 5, maxUsageBytes: 0 }), ["older", "old"]);
  });

  it("by size: the oldest removable ones until the total fits; never the current or an undelivered one", () => {
    // 500 MiB in all; a 250 MiB limit needs three removals, but only three are removable at all.
    assert.deepEqual(chooseRemovals(sessions, now, { retentionDays: 0, maxUsageBytes: 250 * 1048576 }), [
      "older",
      "old",
      "recent",
    ]);
    assert.deepEqual(chooseRemovals(sessions, now, { retentionDays: 0, maxUsageBytes: 350 * 1048576 }), [
      "older",
      "old",
    ]);
  });
});

describe("heldOverLimit (pure)", () => {
  const s = (name: string, mb: number, undelivered: boolean, ended = true): SessionInfo => ({
    name,
    bytes: mb * 1048576,
    endedAtMs: ended ? 1 : null,
    undelivered,
  });
  const p = { retentionDays: 0, maxUsageBytes: 3 * 1048576 };

  it("names the finished sessions kept over the limit only because not delivered or uploaded", () => {
    const all = [s("a", 2, true), s("b", 2, false), s("now", 1, false, false)];
    assert.deepEqual(heldOverLimit(all, [], p), { sessions: ["a"], bytes: 2 * 1048576 });
    assert.equal(heldOverLimit(all, ["a", "b"], p), null, "under the limit once removed");
    assert.equal(heldOverLimit([s("b", 5, false)], [], p), null, "nothing held back");
    assert.equal(heldOverLimit(all, [], { retentionDays: 0, maxUsageBytes: 0 }), null, "no size limit");
  });
});
