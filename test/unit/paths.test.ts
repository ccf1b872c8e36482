import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { batchFileName, generatedSessionName, isoMicros, sessionDir } from "../../node/data/paths.js";
import { commandTopics, fleetTopic, nodeTopic, parseNodeTopic } from "../../contract/topics.js";

describe("paths and topics", () => {
  it("keeps sessions inside the data directory", () => {
    assert.equal(sessionDir("/data", "exp01"), path.resolve("/data/exp01"));
    for (const bad of ["..", "../x", "/etc", "a/b", "", ".", "x".repeat(65), "a\0b"])
      assert.throws(() => sessionDir("/data", bad), /invalid session/);
  });

  it("names batches and generated sessions", () => {
    assert.equal(batchFileName("SBC001", "exp01", 3), "SBC001_exp01_000000003.mkv");
    assert.equal(generatedSessionName(new Date("2026-11-25T10:00:30.123Z")), "20261125T100030Z");
  });

  it("formats epoch µs as ISO-8601 with microseconds", () => {
    assert.equal(isoMicros(1795570595680308), "2026-11-25T01:36:35.680308Z");
    assert.equal(isoMicros(1795570595000001), "2026-11-25T01:36:35.000001Z");
  });

  it("builds topics", () => {
    assert.equal(nodeTopic("labx", "SBC001", "batch"), "labx/SBC001/batch");
    assert.deepEqual(commandTopics("labx", "A", ["g1"]), ["labx/A/cmd", "labx/g1/cmd", "labx/all/cmd"]);
    assert.equal(fleetTopic("labx", "clock"), "labx/fleet/clock");
  });

  it("parses a node's topics and nothing else", () => {
    assert.deepEqual(parseNodeTopic("labx", "labx/SBC001/state"), { node: "SBC001", leaf: "state" });
    assert.deepEqual(parseNodeTopic("labx", "labx/SBC001/event"), { node: "SBC001", leaf: "event" });
    for (const t of [
      "other/SBC001/state", // another base
      "labx/fleet/clock", // the monitor, not a node
      "labx/all/cmd", // a command target
      "labx/SBC001/cmd", // not something a node publishes
      "labx/SBC001/state/x",
      "labx/SBC 1/state",
      "labx/SBC001",
    ])
      assert.equal(parseNodeTopic("labx", t), null, t);
  });
});
