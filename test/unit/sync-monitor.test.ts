import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { SyncMonitor } from "../../node/sync/sync-monitor.js";
import type { Clock } from "../../platform/clock.js";
import type { ClockStatus } from "../../contract/generated/payloads.js";
import { parseSources, parseTracking } from "../../node/sync/chrony-parse.js";

const TRACKING =
  "7F000001,127.0.0.1,9,1795575132.1,-0.000000405,0.000000022,0.000000153,-0.234,0.002,0.295,0.000005608,0.000000633,0.1,Normal\n";
const OK = "^,*,127.0.0.1,8,-4,377,0,0,0,0\n";
const LOST = "^,?,127.0.0.1,8,0,0,3,0,0,0\n";

function harness(sources: string[]) {
  const scheduled: { fn: () => void; ms: number }[] = [];
  // A clock whose timers only record what was scheduled: the test runs each poll itself.
  const clock: Clock = {
    now: () => Date.parse("2026-11-25T10:00:00Z"),
    setTimeout: (fn, ms) => scheduled.push({ fn, ms }),
    clearTimeout: () => {},
    setInterval: () => assert.fail("the monitor polls with timeouts"),
    clearInterval: () => {},
  };
  const clocks: ClockStatus[] = [];
  const events: string[] = [];
  let call = 0;
  const monitor = new SyncMonitor({
    node: "U1",
    intervalMs: 10_000,
    maxRootDistanceS: 0.01,
    read: async () => ({
      tracking: parseTracking(TRACKING),
      sources: parseSources(sources[Math.min(call++, sources.length - 1)]!),
    }),
    log: pino({ level: "silent" }),
    publishClock: (s) => clocks.push(s),
    publishEvent: (e) => events.push(e.type),
    clock,
  });
  return { monitor, scheduled, clocks, events };
}

describe("SyncMonitor (timers injected, chrony readings scripted)", () => {
  it("publishes at start and on each tick; a change of synced is an event", async () => {
    const h = harness([OK, OK, LOST, OK]);
    await h.monitor.start();
    assert.equal(h.clocks.length, 1);
    assert.equal(h.scheduled.at(-1)!.ms, 10_000);
    for (let i = 0; i < 3; i++) await h.monitor.poll();
    assert.deepEqual(
      h.clocks.map((c) => c.synced),
      [true, true, false, true],
    );
    assert.deepEqual(h.events, ["clock_unsynced", "clock_synced"]);
    assert.deepEqual(h.monitor.snapshot(), {
      synced: true,
      offset_s: -0.000000405,
      root_distance_s: 0.000005608 / 2 + 0.000000633,
      checked_at: "2026-11-25T10:00:00.000Z",
    });
  });

  it("a poll that finishes after stop() publishes nothing", async () => {
    const h = harness([OK]);
    await h.monitor.start();
    h.monitor.stop();
    await h.monitor.poll();
    assert.equal(h.clocks.length, 1);
  });

  it("before the first reading, batches say so", () => {
    assert.deepEqual(harness([OK]).monitor.snapshot(), {
      synced: false,
      reason: "clock status not read yet",
    });
  });
});
