import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { ClockStatus, FleetClock } from "../../contract/generated/payloads.js";
import { createValidators } from "../../contract/schemas.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { runCli, tempDir } from "../helpers/node.js";

const clock = (node: string, offset: number, dispersion: number): ClockStatus => ({
  node,
  synced: true,
  source: "127.0.0.1",
  stratum: 9,
  offset_s: offset,
  rms_offset_s: 0.000001,
  root_delay_s: 0.00001,
  root_dispersion_s: dispersion,
  root_distance_s: 0.000005 + dispersion,
  skew_ppm: 0.3,
  leap: "Normal",
  checked_at: new Date().toISOString(),
});

describe("labx broker --monitor: fleet clock figures", () => {
  it("publishes retained labx/fleet/clock equal to a hand computation, and a CSV for the session", async () => {
    const port = await freePort();
    const dir = tempDir();
    const cli = runCli([
      "broker",
      "--monitor",
      "--broker-port",
      String(port),
      "--broker-host",
      "127.0.0.1",
      "--data-dir",
      dir,
    ]);
    try {
      await waitForPort(port, 20_000);
      const rec = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["labx/fleet/clock"]);
      const state = (node: string) =>
        JSON.stringify({
          node,
          state: "recording",
          session: "exp9",
          started_at: null,
          batches: 0,
          updated_at: new Date().toISOString(),
        });
      for (const n of ["F1", "F2", "F3"])
        await rec.publish(`labx/${n}/state`, state(n), { qos: 1, retain: true });
      // Offsets +0.5, -1.5, +2.5 ms; dispersions 0.1, 0.3, 0.2 ms.
      await rec.publish("labx/F1/clock", JSON.stringify(clock("F1", 0.0005, 0.0001)), {
        qos: 1,
        retain: true,
      });
      await rec.publish("labx/F2/clock", JSON.stringify(clock("F2", -0.0015, 0.0003)), {
        qos: 1,
        retain: true,
      });
      await rec.publish("labx/F3/clock", JSON.stringify(clock("F3", 0.0025, 0.0002)), {
        qos: 1,
        retain: true,
      });
      const f = await rec.waitFor(
        () => rec.jsonOn<FleetClock>("labx/fleet/clock").find((m) => m.nodes.length === 3),
        10_000,
        "fleet clock over 3 nodes",
      );
      assert.ok(createValidators().fleetClock(f));
      // Pairs: |2.0|, |2.0|, |4.0| ms → max 4, mean 8/3. Mean offset 0.5 ms → deviations 0, -2, 2 → std √(8/3) ms.
      const close = (a: number | null, b: number) =>
        assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);
      close(f.max_pairwise_offset_s, 0.004);
      close(f.mean_pairwise_offset_s, 0.008 / 3);
      close(f.jitter_s, Math.sqrt(8 / 3) / 1000);
      close(f.mean_root_dispersion_s, 0.0002);
      close(f.max_root_dispersion_s, 0.0003);
      assert.equal(f.session, "exp9");
      await rec.close();
      const late = await MqttRecorder.connect(`mqtt://127.0.0.1:${port}`, ["labx/fleet/clock"]);
      assert.equal((await late.waitFor(() => late.on("labx/fleet/clock")[0], 5000, "retained")).retain, true);
      await late.close();
      const csv = readFileSync(path.join(dir, "fleet", "exp9.csv"), "utf8")
        .trim()
        .split("\n");
      assert.equal(
        csv[0],
        "computed_at,nodes,synced_nodes,max_pairwise_offset_s,mean_pairwise_offset_s,jitter_s,mean_root_dispersion_s,max_root_dispersion_s",
      );
      assert.match(csv.at(-1)!, /,3,3,0\.004,/);
    } finally {
      cli.child.kill("SIGTERM");
      assert.equal((await cli.exited).code, 0);
    }
  });
});
