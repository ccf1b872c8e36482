import { test } from "node:test";
import assert from "node:assert/strict";
import { testJpeg } from "../helpers/media.js";
import { createValidators } from "../../contract/schemas.js";
import { embedPreviewMeta } from "../../contract/preview.js";
import { BadRequestError, parseCommandRequest } from "../../ui/command-request.js";
import { FleetCache } from "../../ui/fleet-cache.js";

const validators = createValidators();
const NOW = Date.parse("2026-12-02T10:00:00.000Z");

test("a dashboard command is checked like a node checks it, and 'start in' is taken from this host's clock", () => {
  assert.deepEqual(
    parseCommandRequest(
      { target: "cams", command: { cmd: "start", session: "s1", duration: 60 }, start_in_s: 10 },
      validators,
      NOW,
    ),
    {
      target: "cams",
      command: { cmd: "start", session: "s1", duration: 60, at: "2026-12-02T10:00:10.000Z" },
    },
  );
  assert.deepEqual(
    parseCommandRequest({ target: "all", command: { cmd: "start" }, start_in_s: 0 }, validators, NOW).command,
    { cmd: "start" },
    "0: now",
  );
  const bad: [unknown, RegExp][] = [
    [null, /JSON object/],
    [{ target: "../x", command: { cmd: "stop" } }, /target must be/],
    [{ target: "fleet", command: { cmd: "stop" } }, /target must be/],
    [{ target: "all", command: { cmd: "start", session: "<script>" } }, /command \/session/],
    [{ target: "all", command: { cmd: "reboot" } }, /command/],
    [{ target: "all", command: { cmd: "stop" }, start_in_s: 5 }, /goes with a start/],
    [{ target: "all", command: { cmd: "start" }, start_in_s: -1 }, /0 to 86400/],
    [{ target: "all", command: { cmd: "start", at: 5 }, start_in_s: 5 }, /either at or start_in_s/],
    [{ target: "all", command: "start" }, /must be an object/],
  ];
  for (const [body, message] of bad)
    assert.throws(
      () => parseCommandRequest(body, validators, NOW),
      (e: Error) => e instanceof BadRequestError && message.test(e.message),
      JSON.stringify(body),
    );
});

test("the dashboard's cache keeps valid latest values, bounded history, and previews; the rest is dropped", () => {
  const cache = new FleetCache("labx", validators, { events: 2, batches: 2, clockPoints: 2, nodes: 256 });
  const put = (topic: string, payload: string | Buffer, at: number) =>
    cache.apply(topic, Buffer.from(payload), at);
  assert.equal(put("labx/N1/availability", "online", 1)?.payload, "online");
  assert.equal(put("labx/N1/availability", "maybe", 2), null, "not a valid availability");
  assert.equal(put("labx/N1/state", "{", 3), null, "not JSON");
  assert.equal(put("other/N1/state", "{}", 4), null, "another base topic");
  assert.equal(put("labx/N1/reply", "{}", 5), null, "replies go to the command that asked");
  const event = (i: number) =>
    JSON.stringify({
      node: "N1",
      type: "gap",
      level: "warning",
      at: new Date(NOW + i).toISOString(),
      message: `e${i}`,
    });
  for (let i = 0; i < 3; i++) assert.ok(put("labx/N1/event", event(i), 10 + i));
  const clock = (i: number) =>
    JSON.stringify({
      node: "N1",
      synced: true,
      source: "127.0.0.1",
      stratum: 9,
      offset_s: i * 1e-6,
      rms_offset_s: 0,
      root_delay_s: 0,
      root_dispersion_s: 0,
      root_distance_s: 0,
      skew_ppm: 0,
      leap: "Normal",
      checked_at: new Date(NOW + i * 1000).toISOString(),
    });
  for (let i = 0; i < 3; i++) assert.ok(put("labx/N1/clock", clock(i), 20 + i), "a valid clock reading");
  const jpeg = testJpeg("32x24");
  const meta = {
    node: "N1",
    session: null,
    taken_at: new Date(NOW).toISOString(),
    width: 32,
    height: 24,
    source: "frame" as const,
  };
  assert.ok(put("labx/N1/preview", embedPreviewMeta(jpeg, meta), 30));
  assert.equal(
    put("labx/N2/preview", embedPreviewMeta(jpeg, meta), 31),
    null,
    "a preview must name the node it is from",
  );
  assert.equal(put("labx/N2/preview", jpeg, 32), null, "a JPEG without labx metadata");
  assert.ok(cache.preview("N1")?.length);

  const replay = cache.replay();
  assert.deepEqual(
    replay.map((m) => m.at),
    [...replay.map((m) => m.at)].sort((a, b) => a - b),
    "in arrival order",
  );
  assert.deepEqual(
    replay.filter((m) => m.leaf === "event").map((m) => (m.payload as { message: string }).message),
    ["e1", "e2"],
    "the newest events",
  );
  assert.equal(replay.filter((m) => m.leaf === "clock").length, 2, "clock history bounded");
  assert.equal(replay.filter((m) => m.leaf === "availability").length, 1);
  // An empty retained payload clears the value.
  assert.equal(put("labx/N1/preview", "", 40)?.payload, null);
  assert.equal(cache.preview("N1"), undefined);
  put("labx/N1/availability", "", 41);
  assert.equal(cache.replay().filter((m) => m.leaf === "availability").length, 0);
});
