import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import { withNode } from "../helpers/harness.js";
import { freePort } from "../helpers/ports.js";

// A fault in one listener or one schedule must not take the node down or hide another's failure.
describe("faults in listeners and schedules (real aedes, real ffmpeg)", () => {
  it("a session-ended listener that throws, or rejects, is logged: the node stays up and records again", async () => {
    await withNode({ sbc_id: "LF1", batch_duration: 1, disable_sync: true }, async ({ rec, run }) => {
      let calls = 0;
      run.node.onSessionEnded(() => {
        calls++;
        throw new Error("listener bug");
      });
      run.node.onSessionEnded(async () => {
        calls++;
        await Promise.resolve();
        throw new Error("async listener bug");
      });
      for (const session of ["one", "two"]) {
        const r = await rec.command("labx", "LF1", "LF1", { cmd: "start", session, duration: 1.5 });
        assert.equal(r.ok, true, JSON.stringify(r));
        await rec.waitFor(
          () =>
            rec
              .jsonOn<NodeEvent>("labx/LF1/event")
              .find((e) => e.type === "session_ended" && e.session === session),
          30_000,
          `${session} ended`,
        );
      }
      assert.equal(calls, 4, "both listeners ran for both sessions");
      const status = await rec.command("labx", "LF1", "LF1", { cmd: "status" });
      assert.equal(status.ok, true);
      assert.equal((status.state as { state: string }).state, "idle");
    });
  });

  it("a schedule cancelled, then the same session scheduled again: the second one's failure is reported", async () => {
    const dead = await freePort();
    await withNode(
      { sbc_id: "LF2", camera: `tcp://127.0.0.1:${dead}`, start_timeout: 2, disable_sync: true },
      async ({ rec }) => {
        const far = new Date(Date.now() + 60_000).toISOString();
        assert.equal(
          (await rec.command("labx", "LF2", "LF2", { cmd: "start", session: "x", at: far })).ok,
          true,
        );
        assert.equal((await rec.command("labx", "LF2", "LF2", { cmd: "stop" })).ok, true);
        const soon = new Date(Date.now() + 2500).toISOString();
        assert.equal(
          (await rec.command("labx", "LF2", "LF2", { cmd: "start", session: "x", at: soon })).ok,
          true,
        );
        const failed = await rec.waitFor(
          () => rec.jsonOn<NodeEvent>("labx/LF2/event").find((e) => e.type === "recorder_failed"),
          30_000,
          "the rescheduled start's failure",
        );
        assert.equal(failed.session, "x");
        assert.match(String(failed.reason), new RegExp(`127\\.0\\.0\\.1:${dead}`));
      },
    );
  });
});
