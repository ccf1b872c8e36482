import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetCsvRow, fleetStats } from "../../monitor/fleet-stats.js";
import type { ClockStatus } from "../../contract/generated/payloads.js";

const clock = (
  node: string,
  offset: number | null,
  dispersion: number | null,
  synced = true,
): ClockStatus => ({
  node,
  synced,
  source: "gps",
  stratum: 2,
  offset_s: offset,
  rms_offset_s: 0,
  root_delay_s: 0,
  root_dispersion_s: dispersion,
  skew_ppm: 0,
  leap: "Normal",
  checked_at: "2026-11-25T10:00:00Z",
});

describe("fleetStats", () => {
  it("computes the old server's figures (checked by hand)", () => {
    // offsets 1 ms, -2 ms, 4 ms → pairs |3|, |3|, |6| ms: max 6, mean 4; mean 1 ms, deviations 0, -3, 3 → std √6 ms.
    const f = fleetStats(
      [
        clock("B", -0.002, 0.0002),
        clock("A", 0.001, 0.0001, false),
        clock("C", 0.004, 0.0006),
        clock("D", null, null),
      ],
      "exp01",
      new Date("2026-11-25T10:00:05Z"),
    );
    assert.deepEqual(f.nodes, ["A", "B", "C"]);
    assert.deepEqual(f.synced_nodes, ["B", "C"]);
    assert.ok(Math.abs(f.max_pairwise_offset_s! - 0.006) < 1e-12);
    assert.ok(Math.abs(f.mean_pairwise_offset_s! - 0.004) < 1e-12);
    assert.ok(Math.abs(f.jitter_s! - Math.sqrt(6) / 1000) < 1e-12);
    assert.ok(Math.abs(f.mean_root_dispersion_s! - 0.0003) < 1e-12);
    assert.equal(f.max_root_dispersion_s, 0.0006);
    assert.equal(f.session, "exp01");
    assert.match(fleetCsvRow(f), /^2026-11-25T10:00:05.000Z,3,2,0.006,/);
  });
  it("gives nulls, not NaN, with fewer than two nodes", () => {
    const f = fleetStats([clock("A", 0.001, 0.0001)], null, new Date());
    assert.equal(f.max_pairwise_offset_s, null);
    assert.equal(f.mean_pairwise_offset_s, null);
    assert.equal(f.jitter_s, 0);
    assert.equal(fleetStats([], null, new Date()).jitter_s, null);
  });
});
