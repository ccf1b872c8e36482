import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { part, unit, Units } from "../../platform/units.js";

const silent = pino({ level: "silent" });

function recorder(): {
  calls: string[];
  make: (name: string, failStart?: boolean, failStop?: boolean) => ReturnType<typeof unit>;
} {
  const calls: string[] = [];
  return {
    calls,
    make: (name, failStart = false, failStop = false) =>
      unit(
        name,
        async () => {
          calls.push(`start ${name}`);
          if (failStart) throw new Error(`${name} cannot start`);
        },
        async () => {
          calls.push(`stop ${name}`);
          if (failStop) throw new Error(`${name} cannot stop`);
        },
      ),
  };
}

describe("Units: ordered start and stop", () => {
  it("starts in order, stops in reverse, each once however often asked", async () => {
    const { calls, make } = recorder();
    const units = new Units([make("a"), make("b"), make("c")], silent);
    await Promise.all([units.start(), units.start()]);
    await Promise.all([units.stop(), units.stop()]);
    await units.stop();
    assert.deepEqual(calls, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  });

  it("a unit that fails to start stops the ones before it (itself included), and the error reaches the caller", async () => {
    const { calls, make } = recorder();
    const units = new Units([make("a"), make("b", true), make("c")], silent);
    await assert.rejects(units.start(), /b cannot start/);
    assert.deepEqual(calls, ["start a", "start b", "stop b", "stop a"]);
  });

  it("a unit that fails to stop does not keep the others from stopping", async () => {
    const { calls, make } = recorder();
    const units = new Units([make("a"), make("b", false, true), make("c")], silent);
    await units.start();
    await units.stop();
    assert.deepEqual(calls.slice(3), ["stop c", "stop b", "stop a"]);
  });

  it("stop during start: the unit being started finishes first; the ones after it are never started", async () => {
    const calls: string[] = [];
    let release!: () => void;
    const slow = unit(
      "slow",
      () => new Promise<void>((r) => (calls.push("start slow"), (release = r))),
      () => void calls.push("stop slow"),
    );
    const after = unit(
      "after",
      () => void calls.push("start after"),
      () => void calls.push("stop after"),
    );
    const units = new Units([slow, after], silent);
    const started = units.start();
    await new Promise((r) => setImmediate(r));
    const stopped = units.stop();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ["start slow"], "not stopped while its start runs");
    release();
    await started;
    await stopped;
    assert.deepEqual(calls, ["start slow", "stop slow"]);
  });
});

describe("part: a unit from an object that may be configured off", () => {
  it("starts and stops the object once each through Units, and does nothing for null", async () => {
    const calls: string[] = [];
    const clock = { start: async () => void calls.push("start"), stop: () => void calls.push("stop") };
    const units = new Units([part("clock", clock), part("preview", null)], pino({ level: "silent" }));
    await units.start();
    await units.start();
    await units.stop();
    await units.stop();
    assert.deepEqual(calls, ["start", "stop"]);
  });
});
