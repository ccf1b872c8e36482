import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Reply } from "../../contract/generated/payloads.js";
import { startChronyClient, startChronyServer, type Chronyd } from "../helpers/chrony.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { ROOT, startNode, type RunningNode } from "../helpers/node.js";

interface Recipe {
  line: number;
  script: string;
  expect: string | null;
}

/** The ```sh blocks of docs/cookbook.md, in order, with their `# → reply:` expectation. */
function recipes(): Recipe[] {
  const text = readFileSync(path.join(ROOT, "docs", "cookbook.md"), "utf8");
  const out: Recipe[] = [];
  const re = /```sh\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const script = m[1]!;
    out.push({
      line: text.slice(0, m.index).split("\n").length,
      script,
      expect: /# → reply: (\S+)/.exec(script)?.[1] ?? null,
    });
  }
  return out;
}

function sh(script: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile("sh", ["-c", script], { timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

describe("docs/cookbook.md, run as written", () => {
  let broker: Broker;
  let rec: MqttRecorder;
  let server: Chronyd;
  let client: Chronyd;
  let node: RunningNode;

  before(async () => {
    broker = await startMosquitto();
    server = await startChronyServer();
    client = await startChronyClient(server.port);
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    node = await startNode({
      broker_url: broker.url,
      sbc_id: "SBC001",
      groups: ["row1"],
      batch_duration: 2,
      sync_interval: 1,
      chrony_host: "127.0.0.1",
      chrony_port: client.cmdPort,
    });
    await rec.waitFor(() => rec.on("labx/SBC001/clock")[0], 20_000, "the first clock status");
  });
  after(async () => {
    await node?.stop();
    await rec?.close();
    await client?.stop();
    await server?.stop();
    await broker?.stop();
  });

  it("every sh recipe exits 0 and gets the reply it promises", async (t) => {
    const all = recipes();
    assert.ok(all.length >= 12, `found ${all.length} recipes`);
    let ran = 0;
    for (const r of all) {
      if (r.script.includes("Ctrl+C")) continue; // runs forever by design
      const script = r.script.replace(/-h localhost/g, `-h 127.0.0.1 -p ${broker.port}`);
      assert.notEqual(script, r.script, `recipe at line ${r.line} does not name the broker`);
      const before = rec.on("labx/SBC001/reply").length;
      // Asynchronously: the node runs in this process and must go on recording meanwhile.
      const res = await sh(script);
      assert.equal(res.code, 0, `recipe at docs/cookbook.md:${r.line} failed:\n${r.script}\n${res.stderr}`);
      ran += 1;
      if (!r.expect) continue;
      const reply = await rec.waitFor(
        () => rec.jsonOn<Reply>("labx/SBC001/reply")[before],
        15_000,
        `the reply to the recipe at line ${r.line}`,
      );
      const got = reply.ok ? "ok" : reply.code;
      assert.equal(got, r.expect, `recipe at docs/cookbook.md:${r.line}: ${JSON.stringify(reply)}`);
    }
    t.diagnostic(`${ran} recipes run`);
    // The "forget a retired node" recipe left nothing retained for OLD01.
    const probe = await MqttRecorder.connect(broker.url, ["labx/OLD01/#", "labx/SBC001/availability"]);
    try {
      await probe.waitFor(() => probe.on("labx/SBC001/availability")[0], 5000, "a retained message");
      assert.deepEqual(
        probe.messages.filter((m) => m.topic.startsWith("labx/OLD01/")),
        [],
      );
    } finally {
      await probe.close();
    }
  });
});
