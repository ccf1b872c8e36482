import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCommand } from "../../node/commands/parse.js";
import { createValidators } from "../../contract/schemas.js";

const v = createValidators();
const parse = (p: string | Buffer) => parseCommand(Buffer.isBuffer(p) ? p : Buffer.from(p), v, 1024);
const code = (p: string | Buffer) => {
  const r = parse(p);
  return r.ok ? "OK" : r.error.code;
};

describe("parseCommand", () => {
  it("reads bare words and JSON", () => {
    for (const w of ["start", "stop", "status", " start\n"]) assert.equal(code(w), "OK");
    const r = parse(
      '{"cmd":"start","id":"r1","session":"exp01","duration":300,"batch_duration":10,"at":"2026-11-25T10:00:00.000Z"}',
    );
    assert.ok(r.ok);
    assert.equal(r.command.cmd, "start");
    assert.equal(code('{"cmd":"start","at":1795570000.5}'), "OK");
  });

  it("gives each bad input its stable code", () => {
    assert.equal(code("{oops"), "INVALID_JSON");
    assert.equal(code("Start Now"), "INVALID_JSON");
    assert.equal(code(Buffer.from([0xc3, 0x28])), "INVALID_JSON");
    assert.equal(code("42"), "INVALID_PAYLOAD");
    assert.equal(code("null"), "INVALID_PAYLOAD");
    assert.equal(code('"start"'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":5}'), "INVALID_PAYLOAD");
    assert.equal(code('{"id":"x"}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"start","duration":-1}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"start","duration":1e308}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"start","at":"tomorrow"}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"start","session":"a b"}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"start","session":"x\\u0000"}'), "INVALID_PAYLOAD");
    assert.equal(code('{"cmd":"status","verbose":true}'), "INVALID_PAYLOAD");
    assert.equal(code("reboot"), "UNKNOWN_CMD");
    assert.equal(code('{"cmd":"rm -rf /"}'), "UNKNOWN_CMD");
    assert.equal(code(Buffer.alloc(1025, 0x20)), "PAYLOAD_TOO_LARGE");
  });

  it("reads a calibrate command: a latency in ms, or null to forget it", () => {
    for (const ok of [
      '{"cmd":"calibrate","latency_ms":87.25}',
      '{"cmd":"calibrate","latency_ms":0,"session":"tc1","id":"v1"}',
      '{"cmd":"calibrate","latency_ms":null}',
    ])
      assert.equal(code(ok), "OK", ok);
    for (const bad of [
      "calibrate",
      '{"cmd":"calibrate"}',
      '{"cmd":"calibrate","latency_ms":-1}',
      '{"cmd":"calibrate","latency_ms":5001}',
      '{"cmd":"calibrate","latency_ms":"40"}',
      '{"cmd":"calibrate","latency_ms":40,"session":"../x"}',
      '{"cmd":"calibrate","latency_ms":40,"camera":"all"}',
    ])
      assert.equal(code(bad), "INVALID_PAYLOAD", bad);
  });

  it("echoes the id and cmd it could read, even from a refused command", () => {
    const r = parse('{"cmd":"start","id":"req-9","duration":"x"}');
    assert.ok(!r.ok);
    assert.deepEqual([r.id, r.cmd], ["req-9", "start"]);
    assert.match(r.error.message, /duration/);
  });

  it("names the unknown field", () => {
    const r = parse('{"cmd":"start","colour":"red"}');
    assert.ok(!r.ok);
    assert.equal(r.error.message, 'unknown field "colour"');
  });
});
