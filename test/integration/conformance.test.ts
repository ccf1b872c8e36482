// labx conformance (a real process) against a real broker (MQTT 5): a labx node passes every check in
// every configuration it supports (mosquitto or its embedded broker with its logins, --disable-sync, a
// sensor program);
// a deliberately broken minimal node (test/helpers/broken-node.ts) fails exactly the promises it breaks,
// each named with what was seen.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { BROKEN_PASSES, startBrokenNode } from "../helpers/broken-node.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { ROOT, runCli, startNode, tempDir, type CliProcess, type RunningNode } from "../helpers/node.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import type { Config } from "../../platform/config/config.js";
import { CHECKS } from "../../ctl/conformance/checks.js";

interface Row {
  check: string;
  outcome: "pass" | "fail" | "skip";
  detail: string;
}

async function conformance(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; rows: Row[]; stderr: string }> {
  const p = runCli(["conformance", ...args, "--json", "--duration", "4", "--batch-duration", "2"], env);
  const { code } = await p.exited;
  assert.ok(p.stdout().startsWith("{"), `JSON on stdout; stderr: ${p.stderr()}`);
  const out = JSON.parse(p.stdout()) as { checks: Row[] };
  assert.deepEqual(
    out.checks.map((r) => r.check),
    CHECKS.map((c) => c.name),
    "one row per check, in order",
  );
  return { code, rows: out.checks, stderr: p.stderr() };
}

describe("labx conformance", () => {
  // Every configuration labx supports passes; each row starts its own broker and node.
  const IMU = ["python3", path.join(ROOT, "docs", "examples", "imu-sensor.py"), "--rate", "100"];
  const MATRIX: { name: string; embedded: boolean; node: Partial<Config> }[] = [
    { name: "on mosquitto, chrony read", embedded: false, node: {} },
    { name: "--disable-sync", embedded: false, node: { disable_sync: true } },
    {
      name: "--source command (a sensor program)",
      embedded: false,
      node: { source: "command", source_command: IMU },
    },
    {
      name: "--embedded-broker, its default logins (conformance logs in as the lab's controller)",
      embedded: true,
      node: {},
    },
  ];
  for (const row of MATRIX) {
    it(`a labx node passes every promise of the contract: ${row.name}`, async (t) => {
      let broker: Broker | undefined;
      let run: RunningNode | undefined;
      let node: CliProcess | undefined;
      let dataDir = "";
      try {
        const id = `GOOD${MATRIX.indexOf(row)}`;
        const common = { sbc_id: id, groups: ["row1"], batch_duration: 2, ...row.node };
        let login: string[] = [];
        let env: Record<string, string> = {};
        if (row.embedded) {
          // A real `labx node --embedded-broker`: the lab's logins are made at its first start.
          const port = await freePort();
          const dir = tempDir();
          node = runCli([
            ...["node", "--embedded-broker", "--broker-port", String(port), "--sbc-id", id],
            ...["--data-dir", dir, "--groups", "row1", "--batch-duration", "2"],
          ]);
          await waitForPort(port, 30_000);
          const show = runCli(["credentials", "--data-dir", dir, "--show", "controller"]);
          assert.equal((await show.exited).code, 0, show.stderr());
          dataDir = dir;
          login = ["--broker-url", `mqtt://127.0.0.1:${port}`, "--broker-username", "lab"];
          env = { LABX_BROKER_PASSWORD: show.stdout().trim() };
        } else {
          broker = await startMosquitto();
          run = await startNode({ ...common, broker_url: broker.url });
          dataDir = run.dataDir;
          login = ["--broker-url", broker.url];
        }
        const args = ["--target", id, "--group", "row1", "--data-dir", dataDir, ...login];
        const { code, rows } = await conformance(args, env);
        t.diagnostic(rows.map((r) => `${r.outcome} ${r.check} ${r.detail}`).join("\n"));
        assert.deepEqual(
          rows.filter((r) => r.outcome !== "pass"),
          [],
          "nothing failed or skipped (both brokers speak MQTT 5: the response topic is checked too)",
        );
        assert.equal(code, 0);
      } finally {
        node?.child.kill("SIGTERM");
        await node?.exited;
        if (node) rmSync(dataDir, { recursive: true, force: true });
        await run?.stop();
        await broker?.stop();
      }
    });
  }

  it("a broken node: each broken promise is named, with what was seen; the exit is 1", async (t) => {
    let broker: Broker | undefined;
    let broken: { stop(): Promise<void> } | undefined;
    try {
      broker = await startMosquitto();
      broken = await startBrokenNode(broker.url, "RADAR1");
      const { code, rows } = await conformance([
        "--target",
        "RADAR1",
        "--broker-url",
        broker.url,
        "--timeout",
        "3",
      ]);
      t.diagnostic(rows.map((r) => `${r.outcome} ${r.check}: ${r.detail}`).join("\n"));
      assert.equal(code, 1);
      const by = Object.fromEntries(rows.map((r) => [r.check, r]));
      for (const r of rows) {
        const expected = BROKEN_PASSES.includes(r.check)
          ? "pass"
          : ["to its group: answered", "manifest: the batch events, files hashed"].includes(r.check)
            ? "skip"
            : "fail";
        assert.equal(r.outcome, expected, `${r.check}: ${r.detail}`);
      }
      // What each failure says is what the broken node did.
      assert.match(
        by["availability: retained online"]!.detail,
        /nothing on labx\/RADAR1\/availability within 3 s \(a retained online/,
      );
      assert.match(
        by["state: retained, valid"]!.detail,
        /schemas\/state\.schema\.json: \/ must have required property/,
      );
      assert.match(by["clock: retained, valid"]!.detail, /nothing on labx\/RADAR1\/clock within 3 s/);
      assert.match(by["not JSON: INVALID_JSON"]!.detail, /no reply/);
      assert.match(
        by["unknown cmd: UNKNOWN_CMD"]!.detail,
        /schemas\/reply\.schema\.json: \/cmd must be equal to one of the allowed values/,
      );
      assert.match(by["to all: answered"]!.detail, /no reply/);
      assert.match(by["MQTT 5: reply to the response topic"]!.detail, /nothing on the response topic/);
      assert.match(
        by["start at: scheduled for that instant"]!.detail,
        /the reply's state is recording, not scheduled/,
      );
      assert.match(
        by["batch events: valid, numbered, gap-free, last marked"]!.detail,
        /batch 0: schemas\/batch\.schema\.json/,
      );
      assert.match(by["to its group: answered"]!.detail, /no --group given/);
      assert.match(
        by["stop while idle: NOT_RECORDING"]!.detail,
        /ok true, code undefined; expected NOT_RECORDING/,
      );
      assert.match(
        by["at: the first frame at that instant"]!.detail,
        /the first frame is [\d.]+ ms before at/,
      );
    } finally {
      await broken?.stop();
      await broker?.stop();
    }
  });
});
