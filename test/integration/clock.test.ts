import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BatchReady, ClockStatus } from "../../contract/generated/payloads.js";
import { startAedes } from "../helpers/aedes.js";
import { startChronyClient, startChronyServer, type Chronyd } from "../helpers/chrony.js";
import { assertContract } from "../helpers/contract.js";
import type { Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { withNode } from "../helpers/harness.js";
import { freePort } from "../helpers/ports.js";
import { startNode, type RunningNode } from "../helpers/node.js";

describe("clock monitor against real chronyd", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  let server: Chronyd;
  let client: Chronyd;
  let run: RunningNode;
  const clocks = () => rec.jsonOn<ClockStatus>("labx/CLK1/clock");
  const events = (type: string) => rec.jsonOn("labx/CLK1/event").filter((e) => e.type === type);

  before(async () => {
    broker = await startAedes();
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    server = await startChronyServer();
    client = await startChronyClient(server.port);
    run = await startNode({
      broker_url: broker.url,
      sbc_id: "CLK1",
      batch_duration: 1,
      sync_interval: 1,
      chrony_host: "127.0.0.1",
      chrony_port: client.cmdPort,
    });
  });
  after(async () => {
    await run?.stop();
    await client?.stop();
    await server?.stop();
    await rec?.close();
    await broker?.stop();
  });

  it("publishes retained synced: true with chrony's figures", async () => {
    const c = await rec.waitFor(() => clocks().find((s) => s.synced), 20_000, "synced clock");
    assert.equal(c.source, "127.0.0.1");
    assert.equal(c.stratum, 9);
    assert.equal(c.leap, "Normal");
    assert.ok(Math.abs(c.offset_s!) < 0.001 && c.root_distance_s! < 0.01, JSON.stringify(c));
    // Retained: a newcomer gets it at once.
    const late = await MqttRecorder.connect(broker.url, ["labx/CLK1/clock"]);
    const retained = await late.waitFor(() => late.on("labx/CLK1/clock")[0], 5000, "retained clock");
    assert.equal(retained.retain, true);
    await late.close();
  });

  it("every batch carries the clock it was recorded under", async () => {
    const r = await rec.command("labx", "CLK1", "CLK1", { cmd: "start", session: "timed", duration: 2 });
    assert.equal(r.ok, true);
    await rec.waitFor(
      () => rec.jsonOn("labx/CLK1/event").find((e) => e.type === "session_ended"),
      20_000,
      "end",
    );
    const batches = rec.jsonOn<BatchReady>("labx/CLK1/batch");
    assert.equal(batches.length, 2);
    for (const b of batches) {
      assert.equal(b.clock.synced, true);
      assert.equal(typeof b.clock.offset_s, "number");
      assert.equal(typeof b.clock.root_distance_s, "number");
      assert.ok(b.clock.checked_at);
    }
  });

  it("server lost → synced: false and a clock_unsynced event, require_sync refused; back → synced, clock_synced, require_sync records", async () => {
    const port = server.port;
    await server.stop();
    const lost = await rec.waitFor(() => clocks().find((s) => !s.synced), 20_000, "unsynced clock");
    assert.match(lost.reason!, /no selected time source|unreachable|root distance/);
    const ev = await rec.waitFor(() => events("clock_unsynced")[0], 5000, "clock_unsynced event");
    assert.equal(ev.level, "warning");
    const refused = await rec.command("labx", "CLK1", "CLK1", {
      cmd: "start",
      session: "strict",
      require_sync: true,
    });
    assert.equal(refused.ok, false);
    assert.equal(refused.code, "CLOCK_UNSYNCED");
    assert.match(String(refused.message), /not synchronized \(.+\)/);
    assert.equal((refused.state as { state?: string } | undefined)?.state, undefined, "no state: refused");
    server = await startChronyServer(port);
    const n = clocks().length;
    await rec.waitFor(
      () =>
        clocks()
          .slice(n)
          .find((s) => s.synced),
      30_000,
      "synced again",
    );
    await rec.waitFor(() => events("clock_synced")[0], 5000, "clock_synced event");
    const strict = await rec.command("labx", "CLK1", "CLK1", {
      cmd: "start",
      session: "strict",
      require_sync: true,
      duration: 1,
    });
    assert.equal(strict.ok, true, JSON.stringify(strict));
    await rec.waitFor(
      () => rec.jsonOn("labx/CLK1/event").find((e) => e.type === "session_ended" && e.session === "strict"),
      20_000,
      "strict session ended",
    );
    for (const b of rec.jsonOn<BatchReady>("labx/CLK1/batch").filter((x) => x.session === "strict"))
      assert.equal(b.clock.synced, true);
  });

  it("everything published matches the schemas", () => {
    assert.ok(assertContract(rec.messages, "labx", "CLK1") > 5);
  });
});

describe("clock monitor without chrony", () => {
  it("chronyd not running: synced false with the reason, the node keeps working", async () => {
    const port = await freePort();
    await withNode(
      { sbc_id: "NOCHR", sync_interval: 1, chrony_host: "127.0.0.1", chrony_port: port },
      async ({ rec }) => {
        const c = await rec.waitFor(() => rec.jsonOn<ClockStatus>("labx/NOCHR/clock")[0], 10_000, "clock");
        assert.equal(c.synced, false);
        assert.match(
          c.reason!,
          new RegExp(
            `chrony not readable: cannot talk to chronyd at 127\\.0\\.0\\.1:${port} \\(nothing listens there`,
          ),
        );
        assert.equal((await rec.command("labx", "NOCHR", "NOCHR", { cmd: "status" })).ok, true);
        assertContract(rec.messages, "labx", "NOCHR");
      },
    );
  });

  it("chronyc missing (chronyd's Unix socket is read through chronyc): the reason says so", async () => {
    const socket = { chrony_host: "/run/chrony/chronyd.sock", chronyc_path: "/nonexistent/chronyc" };
    await withNode({ sbc_id: "NOBIN", ...socket }, async ({ rec }) => {
      const c = await rec.waitFor(() => rec.jsonOn<ClockStatus>("labx/NOBIN/clock")[0], 10_000, "clock");
      assert.match(c.reason!, /\/nonexistent\/chronyc not found \(is chrony installed\?\)/);
    });
  });

  it("--disable-sync: a retained clock status that says sync disabled, as the batches do; chrony is never read", async () => {
    await withNode({ sbc_id: "NOSYNC", disable_sync: true, batch_duration: 1 }, async ({ rec, broker }) => {
      await rec.waitFor(() => rec.jsonOn<ClockStatus>("labx/NOSYNC/clock")[0], 10_000, "clock");
      // A client that comes later gets it: retained.
      const later = await MqttRecorder.connect(broker.url, ["labx/NOSYNC/clock"]);
      const retained = await later
        .waitFor(() => later.on("labx/NOSYNC/clock").find((m) => m.retain), 5_000, "retained clock")
        .finally(() => later.close());
      const c = JSON.parse(retained.text) as ClockStatus;
      assert.deepEqual(
        { ...c, checked_at: "" },
        {
          node: "NOSYNC",
          synced: false,
          reason: "sync disabled",
          source: null,
          stratum: null,
          offset_s: null,
          rms_offset_s: null,
          root_delay_s: null,
          root_dispersion_s: null,
          root_distance_s: null,
          skew_ppm: null,
          leap: null,
          checked_at: "",
        },
      );
      const r = await rec.command("labx", "NOSYNC", "NOSYNC", { cmd: "start", duration: 1 });
      assert.equal(r.ok, true);
      const b = await rec.waitFor(() => rec.jsonOn<BatchReady>("labx/NOSYNC/batch")[0], 20_000, "batch");
      assert.deepEqual(b.clock, { synced: false, reason: "sync disabled" });
    });
  });
});
