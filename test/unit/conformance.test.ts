import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generate } from "mqtt-packet";
import { deliveredSize, dropWillOnlyProperties, refusesEmptyClientId } from "../../broker/conformance.js";

describe("aedes conformance fixes (pure)", () => {
  it("a will's Will Delay Interval is dropped before it is published; the properties a PUBLISH may carry stay", () => {
    const will = {
      topic: "t",
      properties: { willDelayInterval: 5, contentType: "text/plain", userProperties: { a: "b" } },
    };
    assert.equal(dropWillOnlyProperties(will), true);
    assert.deepEqual(will.properties, { contentType: "text/plain", userProperties: { a: "b" } });
    assert.equal(dropWillOnlyProperties({ properties: { messageExpiryInterval: 1 } }), false);
    assert.equal(dropWillOnlyProperties({}), false);
  });

  it("an empty client id with clean session 0 is refused on 3.1.1 only", () => {
    assert.equal(refusesEmptyClientId({ clientId: "", clean: false, protocolVersion: 4 }), true);
    assert.equal(refusesEmptyClientId({ clientId: "", clean: false, protocolVersion: 5 }), false);
    assert.equal(refusesEmptyClientId({ clientId: "", clean: true, protocolVersion: 4 }), false);
  });

  it("a delivery's size is estimated from above: never less than what MQTT.js encodes for it", () => {
    for (const [qos, n, properties] of [
      [0, 0, undefined],
      [1, 100, { contentType: "image/jpeg" }],
      [2, 70_000, { userProperties: { a: "b" } }],
    ] as const) {
      const packet = {
        cmd: "publish",
        topic: "labx/N1/preview",
        payload: Buffer.alloc(n),
        qos,
        retain: false,
        dup: false,
        ...(properties ? { properties } : {}),
      };
      const actual = generate(
        {
          ...packet,
          ...(qos ? { messageId: 65535 } : {}),
          properties: { ...properties, subscriptionIdentifier: 268_435_455 },
        } as never,
        { protocolVersion: 5 },
      ).length;
      assert.ok(deliveredSize(packet as never) >= actual, `${deliveredSize(packet as never)} < ${actual}`);
    }
  });
});
