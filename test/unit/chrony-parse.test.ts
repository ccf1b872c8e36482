import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assessClock, parseSources, parseTracking } from "../../node/sync/chrony-parse.js";

// Captured from chronyd 4.3 on loopback: synced, then 3 s after its server was killed.
const TRACKING =
  "7F000001,127.0.0.1,9,1795575132.131902248,-0.000000405,0.000000022,0.000000153,-0.234,0.002,0.295,0.000005608,0.000000633,0.1,Normal\n";
const SOURCES_OK = "^,*,127.0.0.1,8,-4,377,0,0.000001363,0.000001385,0.000003478\n";
const SOURCES_LOST = "^,?,127.0.0.1,8,0,0,3,0.000001363,0.000001385,0.000003478\n";

describe("chrony parsing", () => {
  it("reads tracking", () => {
    assert.deepEqual(parseTracking(TRACKING), {
      refId: "7F000001",
      source: "127.0.0.1",
      stratum: 9,
      offsetS: -0.000000405,
      lastOffsetS: 0.000000022,
      rmsOffsetS: 0.000000153,
      skewPpm: 0.295,
      rootDelayS: 0.000005608,
      rootDispersionS: 0.000000633,
      leap: "Normal",
    });
    assert.throws(() => parseTracking("506 Cannot talk to daemon"), /unexpected chronyc tracking output/);
  });

  it("reads sources, reach as octal", () => {
    assert.deepEqual(parseSources(SOURCES_OK), [
      { mode: "^", state: "*", name: "127.0.0.1", stratum: 8, reach: 255 },
    ]);
    assert.equal(parseSources(SOURCES_LOST)[0]!.reach, 0);
    assert.deepEqual(parseSources(""), []);
  });

  it("judges synced from tracking and sources together", () => {
    const t = parseTracking(TRACKING);
    assert.deepEqual(assessClock(t, parseSources(SOURCES_OK), 0.01), {
      synced: true,
      rootDistanceS: 0.000002804 + 0.000000633,
    });
    // tracking still says Normal after the server is gone: sources tell the truth.
    assert.deepEqual(assessClock(t, parseSources(SOURCES_LOST), 0.01).synced, false);
    assert.match(assessClock(t, parseSources(SOURCES_LOST), 0.01).reason!, /no selected time source/);
    assert.match(
      assessClock(t, [{ mode: "^", state: "*", name: "a", stratum: 2, reach: 0 }], 0.01).reason!,
      /unreachable/,
    );
    assert.match(
      assessClock({ ...t, leap: "Not synchronised" }, parseSources(SOURCES_OK), 0.01).reason!,
      /leap status/,
    );
    assert.match(
      assessClock({ ...t, rootDispersionS: 0.02 }, parseSources(SOURCES_OK), 0.01).reason!,
      /root distance 20\.003 ms exceeds 10\.000 ms/,
    );
  });
});
