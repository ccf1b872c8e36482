import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildRequest,
  chronyFloat,
  parseSourceData,
  parseTrackingData,
  replyData,
  REQ,
} from "../../node/sync/chrony-protocol.js";

/** chrony's own encoder (util.c UTI_FloatHostToNetwork), for round trips. */
function encode(x: number): number {
  let neg = 0;
  if (x < 0) {
    x = -x;
    neg = 1;
  }
  let exp: number;
  let coef: number;
  if (x < 1e-100) {
    exp = coef = 0;
  } else if (x > 1e100) {
    exp = 63;
    coef = (1 << 24) - 1 + neg;
  } else {
    exp = Math.floor(Math.log2(x)) + 1;
    coef = Math.floor(x * 2 ** (-exp + 25) + 0.5);
    if (coef < 0 || coef > 1 << 25) throw new Error("coef");
    while (coef > (1 << 24) - 1 + neg) {
      coef >>= 1;
      exp++;
    }
    if (exp > 63) {
      exp = 63;
      coef = (1 << 24) - 1 + neg;
    } else if (exp < -64) {
      exp = -64;
      coef = 0;
    }
  }
  if (neg) coef = (((1 << 25) - coef) >>> 0) & 0x1ffffff;
  return ((exp << 25) | coef) >>> 0;
}

describe("chrony protocol (pure)", () => {
  it("decodes chrony's 32-bit floats to within their 25-bit precision", () => {
    for (const x of [0, 1, -1, 0.5, 1.5e-7, -4.05e-7, 0.000005608, 0.295, -0.234, 123.456, 2 ** -60]) {
      const y = chronyFloat(encode(x));
      assert.ok(Math.abs(y - x) <= Math.abs(x) * 2 ** -23, `${x} → ${y}`);
    }
    assert.equal(chronyFloat(0x02000000 | 1), 2 ** -24);
  });

  it("reads tracking and source data at their offsets, addresses as text", () => {
    const t = Buffer.alloc(76);
    t.writeUInt32BE(0x7f000001, 0);
    t.writeUInt32BE(0x7f000001, 4); // in4
    t.writeUInt16BE(1, 20); // IPADDR_INET4
    t.writeUInt16BE(9, 24);
    t.writeUInt16BE(0, 26);
    t.writeUInt32BE(encode(-0.000000405), 40);
    t.writeUInt32BE(encode(0.000005608), 40 + 4 * 6);
    t.writeUInt32BE(encode(0.000000633), 40 + 4 * 7);
    const tr = parseTrackingData(t);
    assert.equal(tr.refId, "7F000001");
    assert.equal(tr.source, "127.0.0.1");
    assert.equal(tr.stratum, 9);
    assert.equal(tr.leap, "Normal");
    assert.ok(Math.abs(tr.offsetS + 0.000000405) < 1e-12);
    assert.ok(Math.abs(tr.rootDelayS - 0.000005608) < 1e-12);
    assert.ok(Math.abs(tr.rootDispersionS - 0.000000633) < 1e-12);
    // A reference clock: no address, its id as text.
    t.fill(0, 4, 24);
    t.writeUInt32BE(0x50505300, 0); // "PPS\0"
    t.writeUInt16BE(3, 26);
    const pps = parseTrackingData(t);
    assert.equal(pps.source, "PPS");
    assert.equal(pps.leap, "Not synchronised");

    const s = Buffer.alloc(48);
    s.writeUInt16BE(0xfe80, 0);
    s.writeUInt16BE(1, 14);
    s.writeUInt16BE(2, 16); // IPADDR_INET6
    s.writeUInt16BE(2, 22); // stratum
    s.writeUInt16BE(0, 24); // selected
    s.writeUInt16BE(0, 26); // client
    s.writeUInt16BE(0o377, 30);
    assert.deepEqual(parseSourceData(s), { mode: "^", state: "*", name: "fe80::1", stratum: 2, reach: 255 });
    s.writeUInt16BE(1, 24);
    s.fill(0, 0, 16);
    s.writeUInt16BE(1, 14);
    assert.equal(parseSourceData(s).name, "::1");
    assert.equal(parseSourceData(s).state, "?");
  });

  it("builds padded requests and accepts only the reply to them", () => {
    const req = buildRequest(REQ.sourceData, 0xdeadbeef, 3);
    assert.equal(req.length, 76);
    assert.equal(req.readUInt8(0), 6);
    assert.equal(req.readUInt16BE(4), 15);
    assert.equal(req.readUInt32BE(8), 0xdeadbeef);
    assert.equal(req.readInt32BE(20), 3);
    const reply = Buffer.alloc(76);
    reply.writeUInt8(6, 0);
    reply.writeUInt8(2, 1);
    reply.writeUInt16BE(15, 4);
    reply.writeUInt16BE(3, 6);
    reply.writeUInt32BE(0xdeadbeef, 16);
    assert.equal(replyData(reply, REQ.sourceData, 0xdeadbeef).length, 48);
    assert.throws(() => replyData(reply, REQ.sourceData, 1), /another request/);
    assert.throws(() => replyData(reply.subarray(0, 50), REQ.sourceData, 0xdeadbeef), /too short/);
    reply.writeUInt16BE(2, 8);
    assert.throws(() => replyData(reply, REQ.sourceData, 0xdeadbeef), /501 Not authorised/);
  });
});
