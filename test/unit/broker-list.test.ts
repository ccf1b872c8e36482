import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBrokerList } from "../../platform/mqtt/broker-list.js";
import { ConfigError, loadConfig } from "../../platform/config/config.js";

describe("broker list (platform/mqtt/broker-list.ts)", () => {
  it("takes one URL or a cluster's members, in order, with default ports", () => {
    assert.deepEqual(parseBrokerList("mqtt://127.0.0.1:1883"), {
      url: "mqtt://127.0.0.1:1883",
      members: [{ host: "127.0.0.1", port: 1883, protocol: "mqtt" }],
    });
    assert.deepEqual(parseBrokerList("ws://u:p@a:1884/mqtt, mqtts://u:p@b ,wss://u:p@[::1]:9001/mqtt"), {
      url: "ws://u:p@a:1884/mqtt",
      members: [
        { host: "a", port: 1884, protocol: "ws" },
        { host: "b", port: 8883, protocol: "mqtts" },
        { host: "::1", port: 9001, protocol: "wss" },
      ],
    });
  });

  it("names the faulty member, its password replaced", () => {
    const cases: [string, RegExp][] = [
      ["mqtt://a,,mqtt://b", /: broker URL 2 of 3 is empty$/],
      ["mqtt://a,b:1883", /"b:1883": the scheme must be mqtt, mqtts, ws or wss/],
      ["mqtt://a,http://b", /"http:\/\/b": the scheme must be/],
      ["mqtt://a,not a url", /"not a url" is not a URL/],
      [
        "mqtt://u:s3cret@a,mqtt://u:other@b",
        /"mqtt:\/\/\*\*\*@b": every broker of the list must have the same user/,
      ],
      [
        "ws://a/mqtt,ws://b/other",
        /"ws:\/\/b\/other": every WebSocket broker of the list must have the first's path \(\/mqtt\)/,
      ],
      [
        "mqtt://a,ws://b/mqtt",
        /"ws:\/\/b\/mqtt": every WebSocket broker of the list must have the first's path \(\/\)/,
      ],
    ];
    for (const [text, expected] of cases) {
      assert.throws(() => parseBrokerList(text), expected, text);
      try {
        parseBrokerList(text);
      } catch (err) {
        assert.doesNotMatch((err as Error).message, /s3cret|other@/);
      }
    }
  });

  it("--broker-url is checked when the configuration loads; its passwords never reach the error", () => {
    assert.equal(
      loadConfig(["--broker-url", "mqtt://a:1,mqtt://b:2"], {}).broker_url,
      "mqtt://a:1,mqtt://b:2",
    );
    assert.throws(
      () => loadConfig(["--broker-url", "mqtt://u:s3cret@a:1,,mqtt://u:s3cret@b"], {}),
      (err: unknown) =>
        err instanceof ConfigError &&
        /broker_url: broker URL 2 of 3 is empty/.test(err.message) &&
        !err.message.includes("s3cret"),
    );
  });
});
