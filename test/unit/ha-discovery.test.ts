import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { discoveryPayload } from "../../node/homeassistant/discovery-payload.js";
import { haDeviceConfigTopic } from "../../contract/topics.js";

const schema = JSON.parse(
  readFileSync(new URL("../fixtures/ha-device-discovery.schema.json", import.meta.url), "utf8"),
) as object;
const valid = new Ajv({ allErrors: true, strict: false }).compile(schema);

describe("Home Assistant discovery payload (pure)", () => {
  const payload = () =>
    discoveryPayload({ base: "labx", node: "SBC001", groups: ["row1"], version: "1.2.3" });

  it("is a device message under the configured prefix, tied to the node's availability", () => {
    assert.equal(haDeviceConfigTopic("homeassistant", "SBC001"), "homeassistant/device/SBC001/config");
    const p = payload();
    assert.ok(valid(p), JSON.stringify(valid.errors));
    assert.equal(p.availability_topic, "labx/SBC001/availability");
    assert.deepEqual(p.dev.ids, ["labx_SBC001"]);
    assert.equal(p.dev.sa, "row1");
    assert.equal(p.o.sw, "1.2.3");
    const uniqueIds = Object.values(p.cmps).map((c) => c.unique_id);
    assert.equal(new Set(uniqueIds).size, uniqueIds.length);
  });

  it("the documented-fields check catches the mistakes HA would reject or ignore", () => {
    const broken: [string, (p: ReturnType<typeof payload>) => void][] = [
      ["an enum sensor with a unit", (p) => void (p.cmps.state!.unit_of_measurement = "x")],
      ["a switch without command topic", (p) => void delete p.cmps.recording!.command_topic],
      ["a misspelt option", (p) => void (p.cmps.batches!.stat_topic = "labx/x/state")],
      ["no origin", (p) => void delete (p as Record<string, unknown>).o],
      ["a duration in minutes spelt wrong", (p) => void (p.cmps.clock_offset!.unit_of_measurement = "msec")],
      ["a wildcard state topic", (p) => void (p.cmps.batches!.state_topic = "labx/+/state")],
      [
        "a component without unique_id",
        (p) => void delete (p.cmps.batches as Record<string, unknown>).unique_id,
      ],
    ];
    for (const [what, breakIt] of broken) {
      const p = payload();
      breakIt(p);
      assert.equal(valid(p), false, what);
    }
  });
});
