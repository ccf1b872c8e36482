import assert from "node:assert/strict";
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, it } from "node:test";
import { pino } from "pino";
import { ACKS_FILE, JOURNAL_FILE, type JournalEntry } from "../../node/outbox/journal.js";
import { Outbox } from "../../node/outbox/outbox.js";
import { tempDir } from "../helpers/node.js";
import { systemClock } from "../../platform/clock.js";

const log = pino({ level: "silent" });

/** A client whose acknowledgements the test hands out: publish() stays pending until ack() or fail(). */
function fakeClient() {
  const sent: { entry: JournalEntry; ack: () => void; fail: () => void }[] = [];
  return {
    sent,
    publish: (entry: JournalEntry) =>
      new Promise<void>((resolve, reject) =>
        sent.push({ entry, ack: resolve, fail: () => reject(new Error("gone")) }),
      ),
  };
}

describe("outbox", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  it("journals before sending, sends in order once connected, and resends only what was not acknowledged after a restart", async () => {
    const d = dir();
    const c1 = fakeClient();
    const a = new Outbox({ dir: d, publish: c1.publish, clock: systemClock(), log });
    a.start();
    await a.add({ topic: "t", payload: "m0" });
    assert.equal(c1.sent.length, 0, "nothing sent before a connection");
    assert.match(readFileSync(path.join(d, JOURNAL_FILE), "utf8"), /"m0"/, "on disk before any send");
    a.onConnect();
    await a.add({ topic: "t", payload: "m1" });
    await a.add({ topic: "t", payload: "m2" });
    assert.deepEqual(
      c1.sent.map((s) => s.entry.payload),
      ["m0", "m1", "m2"],
    );
    c1.sent[0]!.ack();
    c1.sent[2]!.ack();
    await a.settled();
    assert.equal(a.pendingCount, 1);
    // The process dies here: no stop(), files as they are.
    const c2 = fakeClient();
    const b = new Outbox({ dir: d, publish: c2.publish, clock: systemClock(), log });
    b.start();
    b.onConnect();
    await b.add({ topic: "t", payload: "m3" });
    assert.deepEqual(
      c2.sent.map((s) => s.entry.payload),
      ["m1", "m3"],
      "the unacknowledged one first, then the new one",
    );
    assert.ok(c2.sent[1]!.entry.id > c2.sent[0]!.entry.id, "ids keep growing across runs");
    await b.stop();
    await a.stop();
  });

  it("hands a message the client dropped over again at the next connect, all unacknowledged ones after a disconnect, never twice while connected", async () => {
    const c = fakeClient();
    const o = new Outbox({ dir: dir(), publish: c.publish, clock: systemClock(), log });
    o.start();
    o.onConnect();
    await o.add({ topic: "t", payload: "a" });
    await o.add({ topic: "t", payload: "b" });
    o.onConnect(); // a second connect event without a disconnect: nothing handed twice
    assert.equal(c.sent.length, 2);
    c.sent[0]!.fail();
    await o.settled();
    o.onConnect();
    assert.deepEqual(
      c.sent.map((s) => s.entry.payload),
      ["a", "b", "a"],
    );
    // After a disconnect, everything unacknowledged goes again, in order.
    o.onDisconnect();
    o.onConnect();
    assert.deepEqual(
      c.sent.slice(3).map((s) => s.entry.payload),
      ["a", "b"],
    );
    c.sent.forEach((s) => s.ack());
    assert.equal(await o.drain(1000), true);
    await o.stop();
  });

  it("skips a line torn by a crash mid-write, and compacts once everything is acknowledged", async () => {
    const d = dir();
    const c = fakeClient();
    const o = new Outbox({ dir: d, publish: c.publish, clock: systemClock(), log, compactAfter: 3 });
    o.start();
    o.onConnect();
    for (const p of ["x", "y", "z"]) await o.add({ topic: "t", payload: p });
    c.sent.forEach((s) => s.ack());
    await o.settled();
    await o.stop();
    assert.equal(readFileSync(path.join(d, JOURNAL_FILE), "utf8"), "", "journal emptied");
    assert.equal(readFileSync(path.join(d, ACKS_FILE), "utf8"), "");
    appendFileSync(
      path.join(d, JOURNAL_FILE),
      '{"id":7,"topic":"t","payload":"w"}\n{"id":8,"topic":"t","pay',
    );
    const c2 = fakeClient();
    const again = new Outbox({ dir: d, publish: c2.publish, clock: systemClock(), log });
    again.start();
    again.onConnect();
    assert.deepEqual(
      c2.sent.map((s) => s.entry.payload),
      ["w"],
    );
    await again.stop();
  });

  it("drain() gives up after its timeout when the broker never acknowledges", async () => {
    const c = fakeClient();
    const o = new Outbox({ dir: dir(), publish: c.publish, clock: systemClock(), log });
    o.start();
    o.onConnect();
    await o.add({ topic: "t", payload: "never acked" });
    assert.equal(await o.drain(50), false);
    assert.equal(o.pendingCount, 1);
    await o.stop();
  });
});
