import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Outbox } from "../../node/outbox/outbox.js";
import { Retention } from "../../node/data/retention.js";
import { belowOnce, FreeSpace, wholeMb } from "../../platform/disk/free-space.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/node.js";

// Units that poll or wait, driven by a fake clock: no sleeps, and time is exact.
const silent = pino({ level: "silent" });
const MB = 1048576;

describe("units on the timer port (fake clock)", () => {
  it("FreeSpace as a session's guard (belowOnce): reads at start and every interval, onLow once below the threshold, nothing after stop", async () => {
    const timers = new FakeClock();
    const readings = [50 * MB, 40 * MB, 9 * MB, 5 * MB];
    let reads = 0;
    const low: number[] = [];
    const watch = new FreeSpace({
      dir: "/",
      intervalMs: 500,
      onReading: belowOnce(10 * MB, (free) => low.push(free)),
      freeBytes: async () => readings[Math.min(reads++, readings.length - 1)]!,
      clock: timers,
    });
    await watch.start();
    assert.equal(reads, 1, "one reading at start");
    await timers.advance(499);
    assert.equal(reads, 1, "the next after one interval");
    await timers.advance(1);
    assert.deepEqual(low, []);
    await timers.advance(500);
    assert.deepEqual(low, [9 * MB], "the third reading is below 10 MiB");
    await timers.advance(500);
    assert.deepEqual(low, [9 * MB], "once only");
    watch.stop();
    assert.equal(timers.pending, 0);
    const before = reads;
    await timers.advance(5000);
    assert.equal(reads, before);
  });

  it("FreeSpace for the node's state: every reading in bytes, the last one kept", async () => {
    const timers = new FakeClock();
    const readings = [100 * MB, 100 * MB + 5, 99 * MB, 99 * MB];
    let reads = 0;
    const seen: number[] = [];
    const space = new FreeSpace({
      dir: "/",
      intervalMs: 30_000,
      onReading: (free) => seen.push(free),
      freeBytes: async () => readings[Math.min(reads++, readings.length - 1)]!,
      clock: timers,
    });
    await space.start();
    assert.equal(space.bytes, 100 * MB);
    await timers.advance(90_000);
    assert.equal(reads, 4);
    assert.deepEqual(seen, readings);
    assert.deepEqual(seen.map(wholeMb), [100, 100, 99, 99]);
    space.stop();
    assert.equal(timers.pending, 0);
  });

  it("Retention: a pass every interval, none after stop", async () => {
    const timers = new FakeClock();
    let passes = 0;
    const retention = new Retention({
      dataDir: tempDir(),
      policy: { retentionDays: 30, maxUsageBytes: 0 },
      // Read once at the start of every pass.
      undelivered: () => (passes++, new Set()),
      log: silent,
      intervalMs: 3_600_000,
      clock: timers,
    });
    retention.start();
    await timers.advance(3_599_999);
    assert.equal(passes, 0, "not before the hour");
    await timers.advance(1);
    assert.equal(passes, 1, "on the hour");
    await timers.advance(3_600_000);
    assert.equal(passes, 2, "and every hour");
    retention.stop();
    assert.equal(timers.pending, 0);
    await timers.advance(10 * 3_600_000);
    assert.equal(passes, 2, "none after stop");
  });

  it("Outbox.drain: gives up after exactly its timeout when the broker never acknowledges", async () => {
    const timers = new FakeClock();
    const outbox = new Outbox({
      dir: path.join(tempDir(), ".labx"),
      log: silent,
      publish: () => new Promise(() => {}), // never acknowledged
      clock: timers,
    });
    outbox.start();
    try {
      await outbox.add({ topic: "t", payload: "x" });
      outbox.onConnect();
      let result: boolean | undefined;
      const drained = outbox.drain(5000).then((r) => (result = r));
      await timers.advance(4999);
      assert.equal(result, undefined, "still waiting at 4.999 s");
      await timers.advance(1);
      await drained;
      assert.equal(result, false);
      assert.equal(timers.pending, 0);
      assert.equal(outbox.pendingCount, 1, "kept for the next start");
    } finally {
      await outbox.stop();
    }
  });
});
