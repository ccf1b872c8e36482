import assert from "node:assert/strict";
import { statfs } from "node:fs/promises";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import { resolveLauncher } from "../../node/ffmpeg/launcher.js";
import { SessionController } from "../../node/session/session-controller.js";
import { SessionError } from "../../node/session/session-errors.js";
import { createSession } from "../../node/source/create-session.js";
import { FFMPEG, tempDir, testConfig } from "../helpers/node.js";
import { testChildEnv } from "../helpers/child-env.js";
import { systemClock } from "../../platform/clock.js";

// A stop that arrives while a start is still in its checks (here a disk check that takes 300 ms, as on
// a slow SD card) must wait for the start's answer, not find the node idle. Real ffmpeg, synthetic camera.
describe("a stop during a start's checks (the session controller, real ffmpeg)", () => {
  it("the start is answered ok first, then the stop ends the session it started", async () => {
    const dir = tempDir();
    const batches: BatchReady[] = [];
    const states: NodeState["state"][] = [];
    const controller = new SessionController(
      testConfig({ data_dir: dir, batch_duration: 1, disable_sync: true }),
      {
        createSession,
        clock: systemClock(),
        log: pino({ level: "silent" }),
        ffmpegPath: FFMPEG,
        childEnv: testChildEnv,
        redact: (text: string) => text,
        launcher: resolveLauncher().prefix,
        publishState: (s) => states.push(s.state),
        publishEvent: () => {},
        announce: async (b) => void batches.push(b),
        syncStatus: () => ({ synced: false, reason: "test" }),
        freeBytes: async (d) => {
          await new Promise((r) => setTimeout(r, 300));
          const s = await statfs(d);
          return s.bavail * s.bsize;
        },
      },
    );
    const order: string[] = [];
    let stopped: NodeState | SessionError | undefined;
    try {
      const start = controller.start({ session: "race" }).then((s) => (order.push("start"), s));
      const stop = controller.stop().then(
        (s) => (order.push("stop"), s),
        (e: SessionError) => (order.push("stop"), e),
      );
      const started = await start;
      stopped = await stop;
      assert.equal(started.state, "recording");
      assert.ok(!(stopped instanceof SessionError), `stop refused: ${(stopped as Error).message}`);
      assert.deepEqual(order, ["start", "stop"]);
      assert.equal((stopped as NodeState).session, "race");
      assert.equal(controller.state.state, "idle");
      assert.ok(batches.length >= 1 && batches.at(-1)!.last, "the session's batches are finalized");
    } finally {
      await controller.shutdown();
    }
  });
});
