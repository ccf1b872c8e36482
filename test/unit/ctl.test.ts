import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCtlArgs, UsageError } from "../../ctl/ctl-args.js";
import { commandOf } from "../../ctl/ctl.js";
import { addressedNodes, applyMessage, type FleetView } from "../../platform/control/fleet-view.js";
import { renderResult, renderWatch, sessionProgress } from "../../ctl/render.js";
import type { NodeState } from "../../contract/generated/payloads.js";
import { createValidators } from "../../contract/schemas.js";
import type { ControllerLink } from "../../ctl/ctl-client.js";
import { sendCommand } from "../../platform/control/send-command.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";

const validators = createValidators();

function state(node: string, over: Partial<NodeState> = {}): NodeState {
  return {
    node,
    state: "idle",
    session: null,
    started_at: null,
    batches: 0,
    updated_at: "2026-11-25T10:00:00.000Z",
    ...over,
  };
}

function fleet(entries: [string, "online" | "offline", string[]][]): FleetView {
  const view: FleetView = new Map();
  for (const [node, availability, groups] of entries) {
    applyMessage(view, "labx", `labx/${node}/availability`, Buffer.from(availability), validators);
    applyMessage(
      view,
      "labx",
      `labx/${node}/state`,
      Buffer.from(JSON.stringify(state(node, { groups }))),
      validators,
    );
  }
  return view;
}

describe("labx controller arguments", () => {
  it("builds a start command from flags, with --at as epoch seconds or ISO text", () => {
    const o = parseCtlArgs(
      "start",
      [
        "--target",
        "cams",
        "--session",
        "exp1",
        "--duration",
        "300",
        "--batch-duration",
        "5",
        "--at",
        "1795000000",
      ],
      {},
    );
    assert.equal(o.target, "cams");
    assert.deepEqual(commandOf(o), {
      cmd: "start",
      session: "exp1",
      duration: 300,
      batch_duration: 5,
      at: 1795000000,
    });
    assert.deepEqual(commandOf(parseCtlArgs("start", ["--require-sync"], {})), {
      cmd: "start",
      require_sync: true,
    });
    assert.deepEqual(commandOf(parseCtlArgs("start", ["--no-require-sync"], {})), {
      cmd: "start",
      require_sync: false,
    });
    const iso = parseCtlArgs("start", ["--at", "2026-11-25T10:00:00Z"], {});
    assert.equal(iso.at, "2026-11-25T10:00:00Z");
    assert.equal(iso.target, "all");
    assert.equal(iso.timeoutMs, 10_000);
  });

  it("takes the broker and credentials from the environment, flags first", () => {
    const env = {
      LABX_BROKER_URL: "mqtt://pi:1883",
      LABX_BROKER_PASSWORD: "s3cret",
      LABX_BROKER_USERNAME: "ctl",
    };
    const o = parseCtlArgs("status", [], env);
    assert.equal(o.brokerUrl, "mqtt://pi:1883");
    assert.equal(o.security.broker_password, "s3cret");
    assert.equal(o.security.broker_username, "ctl");
    assert.equal(parseCtlArgs("status", ["--broker-url", "mqtt://x:1"], env).brokerUrl, "mqtt://x:1");
  });

  it("refuses what cannot be sent: bad names, non-positive numbers, flags of another command, unknown flags", () => {
    const bad: [string, string[], RegExp][] = [
      ["start", ["--target", "a/b"], /--target/],
      ["start", ["--target", "#"], /--target/],
      ["start", ["--target", "fleet"], /--target: "fleet" is reserved/],
      ["start", ["--session", "../x"], /--session/],
      ["start", ["--duration", "0"], /--duration/],
      ["start", ["--duration", "ten"], /--duration/],
      ["start", ["--timeout", "-1"], /--timeout/],
      ["stop", ["--session", "x"], /labx start only/],
      ["stop", ["--require-sync"], /labx start only/],
      ["status", ["--once"], /watch only/],
      ["status", ["--bogus"], /bogus/],
      ["status", ["--base-topic", "a/b"], /--base-topic: must be/],
      ["status", ["extra"], /positional|extra/i],
    ];
    for (const [cmd, argv, message] of bad)
      assert.throws(
        () => parseCtlArgs(cmd as "start", argv, {}),
        (e: Error) => e instanceof UsageError && message.test(e.message),
        argv.join(" "),
      );
  });
});

describe("fleet view", () => {
  it("addresses online nodes by id, by group (from their retained state) and all; offline and unknown apart", () => {
    const view = fleet([
      ["A", "online", ["cams"]],
      ["B", "online", ["cams", "left"]],
      ["C", "offline", ["cams"]],
      ["D", "online", []],
    ]);
    assert.deepEqual(addressedNodes(view, "cams"), { online: ["A", "B"], offline: ["C"], unknown: [] });
    assert.deepEqual(addressedNodes(view, "all"), { online: ["A", "B", "D"], offline: ["C"], unknown: [] });
    assert.deepEqual(addressedNodes(view, "D"), { online: ["D"], offline: [], unknown: [] });
    assert.deepEqual(addressedNodes(view, "C"), { online: [], offline: ["C"], unknown: [] });
    assert.deepEqual(addressedNodes(view, "Z"), { online: [], offline: [], unknown: ["Z"] });
  });

  it("ignores payloads that fail their schema, other base topics and the fleet monitor", () => {
    const view: FleetView = new Map();
    const kinds = [
      applyMessage(view, "labx", "labx/A/state", Buffer.from('{"state":"recording"}'), validators),
      applyMessage(view, "labx", "labx/A/availability", Buffer.from("maybe"), validators),
      applyMessage(view, "labx", "other/A/availability", Buffer.from("online"), validators),
      applyMessage(view, "labx", "labx/fleet/clock", Buffer.from("{}"), validators),
      applyMessage(view, "labx", "labx/A/reply", Buffer.from("not json"), validators),
      applyMessage(view, "labx", "labx/A/b/state", Buffer.from("{}"), validators),
    ].map((m) => m.kind);
    assert.deepEqual(kinds, Array(6).fill("ignored"));
    assert.equal(view.size, 0);
    const cleared = fleet([["A", "online", []]]);
    applyMessage(cleared, "labx", "labx/A/availability", Buffer.alloc(0), validators);
    assert.equal(cleared.get("A")?.availability, null);
  });
});

describe("controller output", () => {
  it("progress of a timed session comes from its first frame's time; untimed sessions have none", () => {
    const now = new Date("2026-11-25T10:01:00.000Z");
    const rec = (over: Partial<NodeState>) =>
      state("A", { state: "recording", started_at: "2026-11-25T10:00:00.000Z", ...over });
    assert.equal(sessionProgress(rec({ duration: 240 }), now), 0.25);
    assert.equal(sessionProgress(rec({ duration: 30 }), now), 1);
    assert.equal(sessionProgress(rec({ duration: null }), now), null);
    assert.equal(sessionProgress(rec({ duration: 240, state: "idle" }), now), null);
  });

  it("the reply table names every node with its result, error code and state", () => {
    const text = renderResult(
      {
        id: "x",
        target: "cams",
        command: { cmd: "start", id: "x" },
        ok: false,
        rows: [
          {
            node: "A",
            outcome: "replied",
            ok: true,
            state: state("A", { state: "recording", session: "s1", batches: 2 }),
          },
          {
            node: "B",
            outcome: "replied",
            ok: false,
            code: "ALREADY_RECORDING",
            message: "already recording session s0",
          },
          { node: "C", outcome: "no_reply", ok: false, message: "no reply before the timeout" },
        ],
      },
      false,
    );
    const lines = text.split("\n");
    assert.match(
      lines.find((l) => l.includes(" A "))!,
      /│ A\s+│ ok\s+│ recording │ s1\s+│ 2/,
    );
    assert.match(
      lines.find((l) => l.includes(" B "))!,
      /ALREADY_RECORDING.*already recording session s0/,
    );
    assert.match(
      lines.find((l) => l.includes(" C "))!,
      /NO_REPLY/,
    );
    assert.match(lines.at(-1)!, /start → cams: 2 of 3 answered, not all ok/);
    assert.ok(!text.includes("\u001b["), "no colour codes when colour is off");
  });

  it("the watch table shows a progress bar, the clock offset in ms and the last batch of the current session", () => {
    const view = fleet([["A", "online", []]]);
    const now = new Date("2026-11-25T10:00:30.000Z");
    applyMessage(
      view,
      "labx",
      "labx/A/state",
      Buffer.from(
        JSON.stringify(
          state("A", {
            state: "recording",
            session: "s",
            started_at: "2026-11-25T10:00:00.000Z",
            duration: 60,
            batches: 3,
            free_mb: 2048,
            upload: { pending: 4, pending_bytes: 3 * 1048576, oldest: "2026-11-25T10:00:00.000Z" },
          }),
        ),
      ),
      validators,
    );
    view.get("A")!.clock = {
      synced: true,
      source: "127.0.0.1",
      stratum: 9,
      offset_s: 0.000123,
      rms_offset_s: 0,
      root_delay_s: 0,
      root_dispersion_s: 0,
      skew_ppm: 0,
      leap: "normal",
      checked_at: now.toISOString(),
    } as never;
    const text = renderWatch(view, now, false);
    assert.match(text, /██████████░░░░░░░░░░ 50%/);
    assert.match(text, /0\.123 ms/);
    assert.match(text, /2\.0 GiB/);
    assert.match(text, /4 files 3\.0 MiB/, "the upload backlog");
    assert.match(text, /1 nodes, 1 online, 1 recording/);
  });
});

describe("sendCommand on the timer port (fake clock, a stand-in link)", () => {
  it("waits the settle time, sends once, and gives a silent online node exactly the timeout", async () => {
    const timers = new FakeClock();
    let deliver: (topic: string, payload: string) => void = () => {};
    const sent: string[] = [];
    const link: ControllerLink = {
      onMessage: (handler) => {
        deliver = (topic, payload) => handler(topic, Buffer.from(payload), {} as never);
        return () => (deliver = () => {});
      },
      subscribe: async () => {
        // The broker's retained messages: A and B online and idle.
        for (const n of ["A", "B"]) {
          deliver(`labx/${n}/availability`, "online");
          deliver(`labx/${n}/state`, JSON.stringify(state(n)));
        }
      },
      publish: async (_topic, payload) => {
        const id = (JSON.parse(payload.toString()) as { id: string }).id;
        sent.push(id);
        deliver(
          "labx/A/reply",
          JSON.stringify({ id, cmd: "status", node: "A", ok: true, state: state("A") }),
        );
      },
      stop: async () => {},
    };
    let result: Awaited<ReturnType<typeof sendCommand>> | null = null;
    void sendCommand(link, {
      baseTopic: "labx",
      target: "all",
      command: { cmd: "status" },
      timeoutMs: 10_000,
      settleMs: 500,
      validators,
      clock: timers,
    }).then((r) => (result = r));
    await settle(); // subscribed: the settle wait starts at 0
    await timers.advance(499);
    assert.equal(sent.length, 0, "nothing sent before retained messages settle");
    await timers.advance(1);
    assert.equal(sent.length, 1);
    await timers.advance(9_999);
    assert.equal(result, null, "B still has time");
    await timers.advance(1);
    await settle();
    assert.ok(result);
    const r = result as Awaited<ReturnType<typeof sendCommand>>;
    assert.deepEqual(
      r.rows.map((row) => [row.node, row.outcome]),
      [
        ["A", "replied"],
        ["B", "no_reply"],
      ],
    );
    assert.equal(r.ok, false);
    assert.equal(timers.pending, 0, "no timer left behind");
  });
});
