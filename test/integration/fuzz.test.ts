import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ERROR_CODES } from "../../contract/reply-codes.js";
import type { Reply } from "../../contract/generated/payloads.js";
import { NAME_PATTERN } from "../../contract/names.js";
import { createValidators } from "../../contract/schemas.js";
import { withNode } from "../helpers/harness.js";
import { dataDirEntries } from "../helpers/node.js";

const COUNT = 10_000;

// Generated and mutated payloads: anything JSON, commands with hostile fields, broken bytes.
const hostileValue = fc.oneof(
  fc.constantFrom(
    "../etc",
    "../../x",
    "/etc/passwd",
    "a/b",
    "..",
    ".",
    "x\u0000y",
    "",
    " ",
    "C:\\x",
    "%2e%2e/x",
    "all",
    "#",
    "+",
  ),
  fc.string(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -1, 0, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const command = fc.record(
  {
    cmd: fc.oneof(fc.constantFrom("start", "stop", "status", "START", "reboot", ""), hostileValue),
    id: fc.oneof(fc.string({ maxLength: 200 }), hostileValue),
    session: hostileValue,
    duration: hostileValue,
    batch_duration: hostileValue,
    at: hostileValue,
    extra: hostileValue,
  },
  { requiredKeys: [] },
);
const mutate = (bytes: Buffer, pos: number, byte: number, cut: number): Buffer => {
  const b = Buffer.from(bytes);
  if (b.length) b[pos % b.length] = byte;
  return b.subarray(0, Math.max(0, b.length - (cut % 4)));
};
// Valid commands in the mix, so sessions start and stop among the noise and the handlers are exercised.
const valid = fc.constantFrom(
  "start",
  "stop",
  "status",
  '{"cmd":"status","id":"s"}',
  '{"cmd":"start","batch_duration":1}',
  '{"cmd":"stop","id":"x"}',
);
const payload = fc.oneof(
  { weight: 1, arbitrary: valid.map((v) => Buffer.from(v)) },
  { weight: 4, arbitrary: command.map((c) => Buffer.from(JSON.stringify(c))) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(command, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
      .map(([c, p, b, cut]) => mutate(Buffer.from(JSON.stringify(c)), p, b, cut)),
  },
  { weight: 2, arbitrary: fc.json().map((j) => Buffer.from(j)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.string().map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((d) => Buffer.from("[".repeat(d) + "]".repeat(d))) },
  {
    weight: 1,
    arbitrary: fc
      .nat({ max: 5000 })
      .map((d) => Buffer.from(`{"cmd":"start","x":${'{"a":'.repeat(d)}1${"}".repeat(d)}}`)),
  },
);

describe("hostile input", () => {
  it(`${COUNT} generated and mutated payloads: one coded reply each, node up, nothing outside the data directory`, async () => {
    const samples = fc.sample(payload, { numRuns: COUNT, seed: 20261125 });
    // Megabyte payloads, refused before parsing.
    samples.push(
      Buffer.alloc(1 << 20, 0x7b),
      Buffer.from(`{"cmd":"start","session":"${"a".repeat(1 << 20)}"}`),
    );
    const tmpBefore = new Set(readdirSync(tmpdir()));
    const validators = createValidators();
    await withNode({ sbc_id: "FUZZ", disable_sync: true, batch_duration: 1 }, async ({ rec, run }) => {
      for (let i = 0; i < samples.length; i += 500) {
        await Promise.all(samples.slice(i, i + 500).map((p) => rec.publish("labx/FUZZ/cmd", p)));
        await rec.waitFor(
          () => (rec.on("labx/FUZZ/reply").length >= Math.min(i + 500, samples.length) ? true : undefined),
          120_000,
          `replies to ${i + 500}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
      const replies = rec.jsonOn<Reply>("labx/FUZZ/reply");
      assert.equal(replies.length, samples.length, "exactly one reply per payload");
      const codes = new Map<string, number>();
      for (const r of replies) {
        assert.ok(validators.reply(r), JSON.stringify(r).slice(0, 300));
        const key = r.ok ? `ok:${r.cmd}` : r.code;
        if (!r.ok) assert.ok(r.code in ERROR_CODES);
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
      console.log("replies by outcome:", Object.fromEntries([...codes].sort()));
      assert.ok(
        (codes.get("INVALID_PAYLOAD") ?? 0) > 1000 && (codes.get("INVALID_JSON") ?? 0) > 100,
        "the mix reached the validators",
      );
      assert.equal(codes.get("PAYLOAD_TOO_LARGE"), 2);
      // The synthetic camera cannot fail: CAMERA_UNAVAILABLE would be a stop racing a start.
      assert.equal(codes.get("CAMERA_UNAVAILABLE"), undefined, "a stop during start-up failed its start");
      for (const k of ["ok:status", "ok:start", "ok:stop", "ALREADY_RECORDING", "NOT_RECORDING"])
        assert.ok(codes.get(k), `no ${k} in the mix`);
      // Still up and answering.
      assert.equal((await rec.command("labx", "FUZZ", "FUZZ", { cmd: "status" })).ok, true);
      await rec.command("labx", "FUZZ", "FUZZ", { cmd: "stop" });
      // Nothing but well-named session folders inside the data directory...
      for (const entry of dataDirEntries(run.dataDir))
        assert.match(entry, NAME_PATTERN, `unexpected ${entry}`);
      // ...and nothing new beside it.
      const created = readdirSync(tmpdir()).filter(
        (f) => !tmpBefore.has(f) && f !== path.basename(run.dataDir) && !f.startsWith("labx-"),
      );
      assert.deepEqual(created, []);
    });
  });
});
