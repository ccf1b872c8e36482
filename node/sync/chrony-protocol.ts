// Pure: chrony's command and monitoring protocol (candm.h, protocol version 6, chrony 4.x), for the
// two questions the clock monitor asks — tracking, and each source's state — without spawning chronyc.
// Requests are padded to the length of their reply, as chronyd requires (it refuses to amplify);
// every reply is checked against the request it answers.

import type { Source, Tracking } from "./chrony-parse.js";

export const PROTO_VERSION = 6;
const PKT_TYPE_REQUEST = 1;
const PKT_TYPE_REPLY = 2;
const REQUEST_HEADER = 20;
const REPLY_HEADER = 28;

export const REQ = { nSources: 14, sourceData: 15, tracking: 33 } as const;
const RPY = { nSources: 2, sourceData: 3, tracking: 5 } as const;
/** The reply type that answers each request. */
const REPLY_TO: Record<number, number> = {
  [REQ.tracking]: RPY.tracking,
  [REQ.nSources]: RPY.nSources,
  [REQ.sourceData]: RPY.sourceData,
};

/** Request data length and the full length of its reply (header included), per command. */
const LENGTHS: Record<number, { data: number; reply: number }> = {
  [REQ.tracking]: { data: 0, reply: REPLY_HEADER + 76 },
  [REQ.nSources]: { data: 0, reply: REPLY_HEADER + 4 },
  [REQ.sourceData]: { data: 4, reply: REPLY_HEADER + 48 },
};

/** chronyd's status codes, worded as chronyc words them. */
const STATUS: Record<number, string> = {
  1: "500 Failure",
  2: "501 Not authorised",
  3: "502 Invalid command",
  4: "503 No such source",
  6: "505 Facility not enabled in daemon",
  10: "510 No command access from this host",
  18: "515 Protocol version mismatch",
  19: "516 Packet length mismatch",
};

export function buildRequest(command: number, sequence: number, index = 0): Buffer {
  const len = LENGTHS[command];
  if (!len) throw new Error(`unsupported chrony command ${command}`);
  // Zero-filled: the padding and the reserved fields.
  const b = Buffer.alloc(Math.max(REQUEST_HEADER + len.data, len.reply));
  b.writeUInt8(PROTO_VERSION, 0);
  b.writeUInt8(PKT_TYPE_REQUEST, 1);
  b.writeUInt16BE(command, 4);
  b.writeUInt32BE(sequence >>> 0, 8);
  if (command === REQ.sourceData) b.writeInt32BE(index, REQUEST_HEADER);
  return b;
}

/** The reply's data, once it is known to answer this request; throws chronyd's refusal in its words. */
export function replyData(reply: Buffer, command: number, sequence: number): Buffer {
  if (reply.length < REPLY_HEADER) throw new Error(`chrony reply too short (${reply.length} bytes)`);
  if (reply.readUInt8(1) !== PKT_TYPE_REPLY || reply.readUInt16BE(4) !== command)
    throw new Error("not a chrony reply to this command");
  if (reply.readUInt32BE(16) !== sequence >>> 0) throw new Error("chrony reply to another request");
  const version = reply.readUInt8(0);
  const status = reply.readUInt16BE(8);
  if (status !== 0 || version !== PROTO_VERSION)
    throw new Error(
      version !== PROTO_VERSION
        ? `chronyd speaks protocol version ${version}, labx ${PROTO_VERSION} (chrony 4.x)`
        : (STATUS[status] ?? `chronyd status ${status}`),
    );
  if (reply.readUInt16BE(6) !== REPLY_TO[command])
    throw new Error(`unexpected chrony reply type ${reply.readUInt16BE(6)}`);
  if (reply.length < LENGTHS[command]!.reply)
    throw new Error(`chrony reply too short (${reply.length} of ${LENGTHS[command]!.reply} bytes)`);
  return reply.subarray(REPLY_HEADER);
}

/** chrony's 32-bit float: 7-bit signed exponent, 25-bit signed coefficient, value coef × 2^(exp − 25). */
export function chronyFloat(x: number): number {
  let exp = x >>> 25;
  if (exp >= 64) exp -= 128;
  let coef = x & 0x1ffffff;
  if (coef >= 1 << 24) coef -= 1 << 25;
  return coef * 2 ** (exp - 25);
}

/** An IPAddr (16 address bytes, family, padding) as text; a reference clock's or local reference's id otherwise. */
function address(b: Buffer, at: number, refId: number): string {
  const family = b.readUInt16BE(at + 16);
  if (family === 1) return [...b.subarray(at, at + 4)].join(".");
  if (family === 2) {
    const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(at + 2 * i).toString(16));
    // RFC 5952: the longest run of two or more zero groups becomes "::".
    const runs = [...groups.join(":").matchAll(/(?:^|:)(0(?::0)+)(?=:|$)/g)].map((m) => m[1]!);
    const longest = runs.sort((x, y) => y.length - x.length)[0];
    if (!longest) return groups.join(":");
    const text = `:${groups.join(":")}:`.replace(`:${longest}:`, "::");
    return text.replace(/^:(?!:)/, "").replace(/(?<!:):$/, "");
  }
  // As chronyc prints a reference id that is no address: its printable ASCII.
  const id = Buffer.alloc(4);
  id.writeUInt32BE(refId >>> 0);
  return [...id]
    .filter((c) => c >= 0x20 && c < 0x7f)
    .map((c) => String.fromCharCode(c))
    .join("");
}

const LEAP = ["Normal", "Insert second", "Delete second", "Not synchronised"];

/** RPY_Tracking, as `chronyc -c tracking` reports it (chrony-parse.ts's Tracking). */
export function parseTrackingData(d: Buffer): Tracking {
  const refId = d.readUInt32BE(0);
  const f = (i: number): number => chronyFloat(d.readUInt32BE(40 + 4 * i));
  return {
    refId: refId.toString(16).toUpperCase().padStart(8, "0"),
    source: address(d, 4, refId),
    stratum: d.readUInt16BE(24),
    // current_correction, last_offset, rms_offset, freq, resid_freq, skew, root_delay, root_dispersion.
    offsetS: f(0),
    lastOffsetS: f(1),
    rmsOffsetS: f(2),
    skewPpm: f(5),
    rootDelayS: f(6),
    rootDispersionS: f(7),
    leap: LEAP[d.readUInt16BE(26)] ?? "Invalid",
  };
}

export function parseNSourcesData(d: Buffer): number {
  return d.readUInt32BE(0);
}

const MODE = ["^", "=", "#"];
const STATE = ["*", "?", "x", "~", "+", "-"];

/** RPY_Source_Data, as a line of `chronyc -c sources` gives it (chrony-parse.ts's Source). */
export function parseSourceData(d: Buffer): Source {
  return {
    // IPAddr (20 bytes), poll, stratum, state, mode, flags, reachability, since_sample, 3 floats.
    mode: MODE[d.readUInt16BE(26)] ?? " ",
    state: STATE[d.readUInt16BE(24)] ?? " ",
    name: address(d, 0, 0),
    stratum: d.readUInt16BE(22),
    reach: d.readUInt16BE(30),
  };
}
