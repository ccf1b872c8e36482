import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { callSafely, Listeners } from "../../platform/listeners.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  );
  return { log, lines };
}

describe("listeners", () => {
  it("a throw and a rejection are logged with the listener's name and the error's stack; the others still run", async () => {
    const { log, lines } = capture();
    const l = new Listeners<[number]>(log, "tick");
    const seen: number[] = [];
    l.add(() => {
      throw new Error("sync bug");
    });
    l.add(() => Promise.reject(new Error("async bug")));
    const remove = l.add((n) => seen.push(n));
    l.emit(1);
    remove();
    l.emit(2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [1]);
    const failures = lines.filter((x) => x.msg === "listener failed");
    assert.equal(failures.length, 4);
    assert.ok(failures.every((f) => f.listener === "tick"));
    assert.match(String((failures[0]!.err as { stack: string }).stack), /sync bug/);
  });

  it("callSafely returns normally whatever the function does", () => {
    const { log } = capture();
    assert.doesNotThrow(() =>
      callSafely(log, "x", () => {
        throw new Error("no");
      }),
    );
  });
});
