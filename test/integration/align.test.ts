import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import type { SessionSummary } from "../../align/summary.js";
import { startAedes } from "../helpers/aedes.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, startNode, tempDir, type RunningNode } from "../helpers/node.js";
import { processesIn } from "../helpers/processes.js";

// labx align on sessions really recorded: nodes' data directories side by side in one folder, as a
// researcher collects them (or fetches them from the store).

const PERIOD_MS = 1000 / 30;

interface Row {
  tick: number;
  node: string;
  frameS: number | null;
  errorMs: number | null;
  missing: boolean;
}

function readTimeline(dir: string): Row[] {
  const [header, ...lines] = readFileSync(path.join(dir, "timeline.csv"), "utf8").trim().split("\n");
  assert.equal(header, "tick,tick_epoch_s,node,file,batch_frame,frame,frame_epoch_s,error_ms,missing");
  return lines.map((l) => {
    const c = l.split(",");
    return {
      tick: Number(c[0]),
      node: c[2]!,
      frameS: c[6] ? Number(c[6]) : null,
      errorMs: c[7] ? Number(c[7]) : null,
      missing: c[8] === "1",
    };
  });
}

async function align(session: string, from: string, out: string): Promise<SessionSummary> {
  const cli = runCli(["align", session, "--from", from, "--out", out, "--json"]);
  const { code } = await cli.exited;
  assert.equal(code, 0, cli.stderr());
  const summary = JSON.parse(cli.stdout()) as SessionSummary;
  assert.deepEqual(summary, JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")));
  return summary;
}

describe("labx align (three nodes, one session)", () => {
  it("three nodes started with one at: equal rows per node, every matched frame within half a tick, pairs aligned", async () => {
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    const nodes: RunningNode[] = [];
    const root = tempDir();
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      for (const id of ["CAM_A", "CAM_B", "CAM_C"])
        nodes.push(
          await startNode({
            broker_url: broker.url,
            sbc_id: id,
            data_dir: path.join(root, id),
            video_size: "320x240",
            disable_sync: true,
          }),
        );
      const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString();
      await mq.publish(
        "labx/all/cmd",
        JSON.stringify({ cmd: "start", session: "trial", at, batch_duration: 1, duration: 3 }),
      );
      for (const id of ["CAM_A", "CAM_B", "CAM_C"])
        await mq.waitFor(
          () => mq.jsonOn<NodeEvent>(`labx/${id}/event`).find((e) => e.type === "session_ended"),
          30_000,
          `${id} end`,
        );
      for (const n of nodes) await n.stop();
      nodes.length = 0;
      const out = tempDir();
      const summary = await align("trial", root, out);
      assert.deepEqual(Object.keys(summary.nodes), ["CAM_A", "CAM_B", "CAM_C"]);
      assert.equal(summary.rate, 30);
      const rows = readTimeline(out);
      for (const id of ["CAM_A", "CAM_B", "CAM_C"]) {
        const mine = rows.filter((r) => r.node === id);
        assert.equal(mine.length, summary.ticks, `${id}: one row per tick`);
        assert.ok(summary.nodes[id]!.frames >= 89, `${id}: ${summary.nodes[id]!.frames} frames`);
        for (const r of mine.filter((x) => !x.missing))
          assert.ok(
            Math.abs(r.errorMs!) < PERIOD_MS / 2,
            `${id} tick ${r.tick}: ${r.errorMs} ms from its tick`,
          );
        assert.ok(
          summary.nodes[id]!.missing_ticks <= 1,
          `${id}: ${summary.nodes[id]!.missing_ticks} ticks missing`,
        );
        assert.deepEqual(summary.nodes[id]!.gaps_announced, []);
      }
      assert.equal(summary.pairs.length, 3);
      for (const p of summary.pairs) {
        assert.ok(p.p99_ms < PERIOD_MS, `${p.a}~${p.b}: p99 ${p.p99_ms} ms`);
        assert.ok(
          p.matched >= summary.ticks - 2,
          `${p.a}~${p.b}: ${p.matched} of ${summary.ticks} ticks matched`,
        );
        // --disable-sync: the node does not know its clock, and the verdict says so.
        assert.equal(p.verdict, "clock not synced");
      }
    } finally {
      for (const n of nodes) await n.stop();
      await rec?.close();
      await broker?.stop();
    }
  });

  it("an ffmpeg restart on one node: its gap is announced in the summary and its ticks marked missing, not closed up", async () => {
    let broker: Broker | undefined;
    let rec: MqttRecorder | undefined;
    const nodes: RunningNode[] = [];
    const root = tempDir();
    try {
      broker = await startAedes();
      rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
      const mq = rec;
      for (const id of ["GAP_A", "GAP_B"])
        nodes.push(
          await startNode({
            broker_url: broker.url,
            sbc_id: id,
            data_dir: path.join(root, id),
            video_size: "320x240",
            disable_sync: true,
          }),
        );
      const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString();
      await mq.publish(
        "labx/all/cmd",
        JSON.stringify({ cmd: "start", session: "gappy", at, batch_duration: 1, duration: 5 }),
      );
      await mq.waitFor(() => mq.jsonOn("labx/GAP_A/batch").length >= 2 || undefined, 30_000, "two batches");
      const [pid] = processesIn(path.join(root, "GAP_A"), "ffmpeg");
      assert.ok(pid, "GAP_A's ffmpeg");
      process.kill(pid, "SIGKILL");
      for (const id of ["GAP_A", "GAP_B"])
        await mq.waitFor(
          () => mq.jsonOn<NodeEvent>(`labx/${id}/event`).find((e) => e.type === "session_ended"),
          40_000,
          `${id} end`,
        );
      const gapEvent = mq.jsonOn<NodeEvent>("labx/GAP_A/event").find((e) => e.type === "gap");
      assert.ok(gapEvent, "the node announced the gap");
      for (const n of nodes) await n.stop();
      nodes.length = 0;
      const out = tempDir();
      const summary = await align("gappy", root, out);
      const a = summary.nodes.GAP_A!;
      assert.equal(a.gaps_announced.length, 1, JSON.stringify(a));
      assert.equal(a.gaps_announced[0]!.start, gapEvent.gap_start);
      assert.equal(a.gaps_announced[0]!.end, gapEvent.gap_end);
      assert.ok(a.gaps_found.length >= 1, "and found in the frame times");
      const rows = readTimeline(out);
      const gapTicks = rows.filter((r) => r.node === "GAP_A" && r.missing).length;
      assert.ok(
        gapTicks >= Math.floor((gapEvent.gap_s! * 1000) / PERIOD_MS) - 1,
        `${gapTicks} ticks missing for a ${gapEvent.gap_s} s gap`,
      );
      assert.equal(a.missing_ticks, gapTicks);
      assert.equal(
        rows.filter((r) => r.node === "GAP_A").length,
        rows.filter((r) => r.node === "GAP_B").length,
        "equal rows",
      );
      assert.ok(summary.nodes.GAP_B!.missing_ticks <= 1, "the other node's frames all there");
    } finally {
      for (const n of nodes) await n.stop();
      await rec?.close();
      await broker?.stop();
    }
  });
});
