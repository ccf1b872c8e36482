import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ChildRunner } from "../../node/process/child-runner.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/node.js";

// The stop ladder ('q', then SIGTERM, then SIGKILL, each after the timeout) on real processes, with a
// fake clock deciding when each step is due: no sleeping for the timeouts.
function start(script: string, timers: FakeClock): ChildRunner {
  const dir = tempDir();
  const p = new ChildRunner("sh", ["-c", script], dir, {
    stdoutFile: path.join(dir, "out.txt"),
    stdout: () => {},
    stderr: () => {},
    clock: timers,
  });
  p.start();
  return p;
}

/**
 * Advances the fake clock by ms, then says whether the process has exited. Its exit is real: a signal
 * sent at this step is given time to land (up to 10 s of real time, a guard, not a measurement).
 */
async function exitedAfter(p: ChildRunner, timers: FakeClock, ms: number, expect: boolean): Promise<boolean> {
  let done = false;
  void p.exited.then(() => (done = true));
  await timers.advance(ms);
  if (expect) {
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([p.exited, new Promise((r) => (guard = setTimeout(r, 10_000)))]);
    clearTimeout(guard);
  } else for (let i = 0; i < 20; i++) await settle();
  return done;
}

describe("the stop ladder (real processes, fake clock)", () => {
  it("a process that leaves on 'q' (end of input) is not signalled", async () => {
    const timers = new FakeClock();
    const p = start("read x; exit 0", timers);
    const stopped = p.stop(1000);
    assert.equal(await exitedAfter(p, timers, 0, true), true);
    assert.deepEqual(await stopped, { code: 0, signal: null, forced: "none" });
  });

  it("one that ignores 'q' and SIGTERM gets SIGTERM at the timeout and SIGKILL one timeout later", async () => {
    const timers = new FakeClock();
    const p = start("trap '' TERM; while :; do :; done", timers);
    try {
      const stopped = p.stop(1000);
      assert.equal(await exitedAfter(p, timers, 999, false), false, "still running before the first timeout");
      assert.equal(await exitedAfter(p, timers, 1, false), false, "SIGTERM is ignored");
      assert.equal(
        await exitedAfter(p, timers, 999, false),
        false,
        "still running before the second timeout",
      );
      assert.equal(await exitedAfter(p, timers, 1, true), true, "SIGKILL at 2 × the timeout");
      const exit = await stopped;
      assert.deepEqual(exit, { code: null, signal: "SIGKILL", forced: "SIGKILL" });
      assert.equal(timers.pending, 0, "no timer left behind");
    } finally {
      await p.stop(0);
    }
  });

  it("nothing is spawned before start(); a stop before it ends the process unstarted", async () => {
    const dir = tempDir();
    let spawned = 0;
    const p = new ChildRunner(
      "sh",
      ["-c", "exit 0"],
      dir,
      { stdoutFile: path.join(dir, "out.txt"), stdout: () => {}, stderr: () => {}, clock: new FakeClock() },
      () => {
        spawned++;
        throw new Error("not to be called");
      },
    );
    assert.equal(spawned, 0);
    assert.deepEqual(await p.stop(1000), { code: null, signal: null, forced: "none" });
    assert.deepEqual(await p.exited, { code: null, signal: null, forced: "none" });
    p.start();
    assert.equal(spawned, 0, "a stopped process does not start");
  });
});
