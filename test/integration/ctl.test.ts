import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import type { CommandResult } from "../../platform/control/send-command.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, startNode, type RunningNode } from "../helpers/node.js";
import { freePort } from "../helpers/ports.js";

describe("labx start|stop|status|watch against real nodes on mosquitto", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  const nodes: RunningNode[] = [];
  const ctl = async (args: string[]) => {
    const p = runCli([...args, "--broker-url", broker.url]);
    const exit = await p.exited;
    return { code: exit.code, out: p.stdout(), err: p.stderr() };
  };
  const json = (out: string) => JSON.parse(out) as CommandResult;

  before(async () => {
    broker = await startMosquitto();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    for (const [id, groups] of [
      ["CA", ["cams"]],
      ["CB", ["cams", "left"]],
      ["CC", ["cams"]],
    ] as const)
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: id,
          groups: [...groups],
          disable_sync: true,
          batch_duration: 2,
        }),
      );
    // CC goes away cleanly: its retained availability says offline, its state still lists group cams.
    await nodes.pop()!.stop();
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await rec?.close();
    await broker?.stop();
  });

  it("start to a group: every online member answers ok; the offline member is reported and makes it fail", async () => {
    const started = await ctl([
      "start",
      "--target",
      "cams",
      "--session",
      "ctl1",
      "--duration",
      "120",
      "--json",
    ]);
    const result = json(started.out);
    assert.deepEqual(
      result.rows.map((r) => [r.node, r.outcome, r.ok, r.state?.state ?? null]),
      [
        ["CA", "replied", true, "recording"],
        ["CB", "replied", true, "recording"],
        ["CC", "offline", false, null],
      ],
    );
    assert.equal(started.code, 1, "a named group with an offline member is not all ok");
    assert.equal(result.command.cmd, "start");
    assert.equal(
      rec.jsonOn<{ id: string }>("labx/CA/reply").at(-1)?.id,
      result.id,
      "the reply carries the command's id",
    );

    const again = await ctl(["start", "--target", "CA", "--session", "ctl2"]);
    assert.equal(again.code, 1);
    assert.match(again.out, /│ CA\s+│ ALREADY_RECORDING/);

    const status = await ctl(["status", "--json"]);
    assert.equal(status.code, 0, "to all, an offline node is listed but is not a failure");
    assert.deepEqual(
      json(status.out).rows.map((r) => [r.node, r.outcome, r.state?.session ?? null]),
      [
        ["CA", "replied", "ctl1"],
        ["CB", "replied", "ctl1"],
        ["CC", "offline", null],
      ],
    );

    const stopped = await ctl(["stop", "--target", "left"]);
    assert.equal(stopped.code, 0, stopped.out + stopped.err);
    assert.match(stopped.out, /│ CB\s+│ ok\s+│ idle/);
    assert.match(stopped.out, /stop → left: 1 of 1 answered, all ok/);
    const rest = await ctl(["stop", "--json"]);
    assert.equal(rest.code, 1, "to all: CA stops, CB answers NOT_RECORDING");
    assert.deepEqual(
      json(rest.out).rows.map((r) => [r.node, r.ok, r.code ?? r.state?.state]),
      [
        ["CA", true, "idle"],
        ["CB", false, "NOT_RECORDING"],
        ["CC", false, undefined],
      ],
    );
    assert.ok(
      rec.jsonOn<NodeEvent>("labx/CA/event").some((e) => e.type === "session_ended" && e.session === "ctl1"),
    );
  });

  it("watch --json follows a timed session's progress live, and ends on SIGINT with status 0", async () => {
    const watch = runCli(["watch", "--json", "--broker-url", broker.url]);
    try {
      const start = await ctl(["start", "--target", "CA", "--session", "ctl3", "--duration", "6"]);
      assert.equal(start.code, 0, start.out + start.err);
      type Snapshot = {
        nodes: { node: string; state: { state: string; session: string } | null; progress: number | null }[];
      };
      const progressOf = (): number[] =>
        watch
          .stdout()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Snapshot)
          .map((s) => s.nodes.find((n) => n.node === "CA"))
          .filter((n) => n?.state?.session === "ctl3" && n.progress !== null)
          .map((n) => n!.progress!);
      await rec.waitFor(
        () => (progressOf().some((p) => p > 0) ? true : undefined),
        30_000,
        "progress in watch",
      );
      watch.child.kill("SIGINT");
      assert.deepEqual(await watch.exited, { code: 0, signal: null }, watch.stderr());
      const seen = progressOf();
      assert.ok(
        seen.every((p) => p >= 0 && p <= 1),
        `progress ${seen.join(",")}`,
      );
    } finally {
      if (watch.child.exitCode === null) watch.child.kill("SIGKILL");
      await ctl(["stop", "--target", "CA"]);
    }
  });

  it("an online node that never answers is NO_REPLY after --timeout; an unknown target is UNKNOWN", async () => {
    // A device that claims to be online but is not a labx node: its retained state is valid, it never replies.
    await rec.publish("labx/GHOST/availability", "online", { qos: 1, retain: true });
    try {
      const ghost = await ctl(["status", "--target", "GHOST", "--timeout", "1", "--json"]);
      assert.equal(ghost.code, 1);
      assert.deepEqual(
        json(ghost.out).rows.map((r) => [r.node, r.outcome]),
        [["GHOST", "no_reply"]],
      );
      const unknown = await ctl(["status", "--target", "NOBODY", "--timeout", "1"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.out, /│ NOBODY\s+│ UNKNOWN/);
    } finally {
      await rec.publish("labx/GHOST/availability", "", { qos: 1, retain: true });
    }
  });

  it("usage errors exit 2 without sending; an unreachable broker exits 3", async () => {
    const before = rec.messages.filter((m) => m.topic.endsWith("/cmd")).length;
    const bad = await ctl(["start", "--target", "../x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--target/);
    assert.equal(rec.messages.filter((m) => m.topic.endsWith("/cmd")).length, before);
    const p = runCli(["status", "--broker-url", `mqtt://127.0.0.1:${await freePort()}`, "--timeout", "1"]);
    assert.equal((await p.exited).code, 3);
    assert.match(p.stderr(), /cannot reach the broker/);
  });
});
