import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ValidateFunction } from "ajv";
import type { BatchReady, NodeState } from "../../contract/generated/payloads.js";
import type { Validators } from "../../contract/schemas.js";
import { parseObject, type Probe, type Seen } from "./probe.js";
import type { Clock } from "../../platform/clock.js";

// Every promise of the contract (../shared/spec/contract.md) that can be seen from the broker, as one
// check each, run in order against one node. Each says pass, fail (and what it saw) or skip (and why).

export type Outcome = "pass" | "fail" | "skip";
export interface Verdict {
  outcome: Outcome;
  detail: string;
}
export interface Check {
  name: string;
  run: (c: Context) => Promise<Verdict>;
}

export interface Context {
  probe: Probe;
  validators: Validators;
  group: string | null;
  dataDir: string | null;
  /** The recorded session's length and batches (s). */
  duration: number;
  batchDuration: number;
  /** Filled by the session check, read by those after it. */
  session: { name: string; atMs: number; since: number } | null;
  /** The process's time port (platform/clock.ts). */
  clock: Clock;
}

/** An ISO time with µs digits as epoch ms (fractional). */
const isoMs = (iso: string): number =>
  Math.floor(Date.parse(iso) / 1000) * 1000 + Number(`0.${/\.(\d+)Z$/.exec(iso)?.[1] ?? "0"}`) * 1000;

const pass = (detail = ""): Verdict => ({ outcome: "pass", detail });
const fail = (detail: string): Verdict => ({ outcome: "fail", detail });
const skip = (detail: string): Verdict => ({ outcome: "skip", detail });

function schemaErrors(v: ValidateFunction, value: unknown): string | null {
  if (v(value)) return null;
  const e = v.errors?.[0];
  return `${e?.instancePath || "/"} ${e?.message ?? "invalid"}`;
}

/** A retained message on `leaf`, valid per `schema`, naming the node. */
function retained(leaf: "state" | "clock", pick: (v: Validators) => ValidateFunction): Check {
  return {
    name: `${leaf}: retained, valid`,
    run: async ({ probe, validators }) => {
      const m = await probe.waitFor(() => probe.on(leaf).at(-1));
      if (!m) return fail(`nothing on ${probe.topic(leaf)} within ${probe.timeoutMs / 1000} s`);
      if (!m.retain) return fail(`${probe.topic(leaf)} is not retained`);
      const v = parseObject(m.text);
      const bad = v ? schemaErrors(pick(validators), v) : "not a JSON object";
      if (bad) return fail(`schemas/${leaf}.schema.json: ${bad}`);
      if (leaf === "state" && v!.node !== probe.target) return fail(`names node ${String(v!.node)}`);
      return pass();
    },
  };
}

/** A command whose reply must carry `code` (or ok) and echo `id`. */
function replyCheck(
  name: string,
  payload: (id: string, c: Context) => string,
  expect: { ok: true } | { code: string },
  o: { echoId?: boolean; to?: (c: Context) => string | null; skipIf?: (c: Context) => string | null } = {},
): Check {
  return {
    name,
    run: async (c) => {
      const why = o.skipIf?.(c);
      if (why) return skip(why);
      const to = o.to ? o.to(c) : c.probe.target;
      if (to === null) return skip("no --group given");
      const id = c.probe.id("r");
      const echo = o.echoId ?? true;
      const r = await c.probe.request(payload(id, c), { id: echo ? id : null, to });
      if (!r) return fail(`no reply on ${c.probe.topic("reply")} within ${c.probe.timeoutMs / 1000} s`);
      const bad = schemaErrors(c.validators.reply, r);
      if (bad) return fail(`schemas/reply.schema.json: ${bad}: ${JSON.stringify(r).slice(0, 160)}`);
      if (echo && r.id !== id) return fail(`id ${JSON.stringify(r.id)}, not ${id}`);
      if (r.node !== c.probe.target) return fail(`names node ${String(r.node)}`);
      if ("ok" in expect) return r.ok === true ? pass() : fail(`${String(r.code)}: ${String(r.message)}`);
      if (r.ok !== false || r.code !== expect.code)
        return fail(`ok ${String(r.ok)}, code ${String(r.code)}; expected ${expect.code}`);
      return pass();
    },
  };
}

const lastState = (probe: Probe): NodeState | null => {
  const m = probe.on("state").at(-1);
  return m ? (parseObject(m.text) as NodeState | null) : null;
};

const notIdle = (c: Context): string | null => {
  const s = lastState(c.probe)?.state;
  return s === "idle" || s === "error" ? null : `the node is ${s ?? "in no known state"}, not idle`;
};

const sessionBatches = (c: Context): Seen[] =>
  c.probe.on("batch", c.session!.since).filter((m) => parseObject(m.text)?.session === c.session!.name);

export const CHECKS: Check[] = [
  {
    name: "availability: retained online",
    run: async ({ probe }) => {
      const m = await probe.waitFor(() => probe.on("availability").at(-1));
      if (!m)
        return fail(
          `nothing on ${probe.topic("availability")} within ${probe.timeoutMs / 1000} s (a retained online reaches every later subscriber)`,
        );
      if (m.text !== "online") return fail(`says ${JSON.stringify(m.text.slice(0, 40))}`);
      return m.retain
        ? pass("the offline will is not observable from the broker")
        : fail("online is not retained");
    },
  },
  retained("state", (v) => v.state),
  retained("clock", (v) => v.clock),
  replyCheck("status: ok, its id echoed", (id) => JSON.stringify({ cmd: "status", id }), { ok: true }),
  replyCheck("bare word: status", () => "status", { ok: true }, { echoId: false }),
  replyCheck("not JSON: INVALID_JSON", () => "{not json", { code: "INVALID_JSON" }, { echoId: false }),
  replyCheck("bad field: INVALID_PAYLOAD", (id) => JSON.stringify({ cmd: "start", id, duration: "soon" }), {
    code: "INVALID_PAYLOAD",
  }),
  replyCheck("unknown cmd: UNKNOWN_CMD", (id) => JSON.stringify({ cmd: "dance", id }), {
    code: "UNKNOWN_CMD",
  }),
  replyCheck(
    "stop while idle: NOT_RECORDING",
    (id) => JSON.stringify({ cmd: "stop", id }),
    {
      code: "NOT_RECORDING",
    },
    { skipIf: notIdle },
  ),
  replyCheck(
    "at in the past: BAD_SCHEDULE",
    (id, c) => JSON.stringify({ cmd: "start", id, at: new Date(c.clock.now() - 60_000).toISOString() }),
    { code: "BAD_SCHEDULE" },
    { skipIf: notIdle },
  ),
  replyCheck(
    "to all: answered",
    (id) => JSON.stringify({ cmd: "status", id }),
    { ok: true },
    { to: () => "all" },
  ),
  replyCheck(
    "to its group: answered",
    (id) => JSON.stringify({ cmd: "status", id }),
    { ok: true },
    {
      to: (c) => c.group,
    },
  ),
  {
    name: "MQTT 5: reply to the response topic",
    run: async ({ probe }) => {
      if (!probe.mqtt5) return skip("the broker speaks MQTT 3.1.1");
      const responseTopic = `labx-conformance/${process.pid}/response`;
      await probe.subscribe([responseTopic]);
      const correlation = Buffer.from(probe.id("c"));
      const since = probe.mark();
      await probe.send(probe.target, JSON.stringify({ cmd: "status" }), {
        qos: 1,
        properties: { responseTopic, correlationData: correlation },
      });
      const m = await probe.waitFor(() =>
        probe.messages.find((x) => x.topic === responseTopic && x.n >= since),
      );
      if (!m) return fail(`nothing on the response topic within ${probe.timeoutMs / 1000} s`);
      if (!m.correlation?.equals(correlation)) return fail("the correlation data is not echoed");
      return pass();
    },
  },
  {
    name: "start at: scheduled for that instant",
    run: async (c) => {
      const why = notIdle(c);
      if (why) return skip(why);
      const atMs = Math.ceil((c.clock.now() + 4000) / 1000) * 1000;
      const name = `conformance-${c.clock.now().toString(36)}`;
      const id = c.probe.id("start");
      const since = c.probe.mark();
      const r = await c.probe.request(
        JSON.stringify({
          cmd: "start",
          id,
          session: name,
          at: new Date(atMs).toISOString(),
          duration: c.duration,
          batch_duration: c.batchDuration,
        }),
        { id },
      );
      if (!r) return fail("no reply to start");
      if (r.ok !== true) return fail(`${String(r.code)}: ${String(r.message)}`);
      c.session = { name, atMs, since };
      const state = r.state as NodeState | undefined;
      if (state?.state !== "scheduled")
        return fail(`the reply's state is ${String(state?.state)}, not scheduled`);
      if (!state.scheduled_at || Date.parse(state.scheduled_at) !== atMs)
        return fail(`scheduled_at ${String(state.scheduled_at)}, not ${new Date(atMs).toISOString()}`);
      return pass(`${name} at ${new Date(atMs).toISOString()}`);
    },
  },
  replyCheck(
    "start while scheduled: ALREADY_RECORDING",
    (id) => JSON.stringify({ cmd: "start", id }),
    { code: "ALREADY_RECORDING" },
    { skipIf: (c) => (c.session ? null : "no session was started") },
  ),
  {
    name: "state: scheduled, recording, idle",
    run: async (c) => {
      if (!c.session) return skip("no session was started");
      const { name, atMs, since } = c.session;
      const seen = (): NodeState[] =>
        c.probe
          .on("state", since)
          .map((m) => parseObject(m.text) as NodeState | null)
          .filter((s): s is NodeState => s !== null);
      const done = await c.probe.waitFor(
        () =>
          seen().some((s) => s.state === "idle" && seen().some((x) => x.state === "recording"))
            ? true
            : undefined,
        atMs - c.clock.now() + c.duration * 1000 + c.probe.timeoutMs + 10_000,
      );
      const states = seen().map((s) => s.state);
      if (!done) return fail(`states seen: ${states.join(", ") || "none"}`);
      if (!seen().some((s) => s.state === "recording" && s.session === name))
        return fail(`no recording state for ${name}`);
      return pass(states.filter((s, i) => s !== states[i - 1]).join(" → "));
    },
  },
  {
    name: "batch events: valid, numbered, gap-free, last marked",
    run: async (c) => {
      if (!c.session) return skip("no session was started");
      const batches = sessionBatches(c).map((m) => parseObject(m.text));
      if (batches.length === 0) return fail(`no batch event for ${c.session.name}`);
      for (const [i, b] of batches.entries()) {
        const bad = schemaErrors(c.validators.batch, b);
        if (bad) return fail(`batch ${i}: schemas/batch.schema.json: ${bad}`);
        const x = b as unknown as BatchReady;
        if (x.node !== c.probe.target) return fail(`batch ${i} names node ${x.node}`);
        if (x.seq !== i) return fail(`the ${i + 1}th batch event has seq ${x.seq}`);
        if (i > 0 && x.start !== (batches[i - 1] as unknown as BatchReady).end)
          return fail(
            `batch ${i} starts at ${x.start}, batch ${i - 1} ends at ${(batches[i - 1] as unknown as BatchReady).end}`,
          );
        if (Boolean(x.last) !== (i === batches.length - 1))
          return fail(`batch ${i}: last is ${String(x.last)}`);
      }
      return pass(`${batches.length} batches`);
    },
  },
  {
    name: "at: the first frame at that instant",
    run: async (c) => {
      if (!c.session) return skip("no session was started");
      const first = parseObject(sessionBatches(c)[0]?.text ?? "") as BatchReady | null;
      if (!first) return fail("no batch");
      const lateMs = isoMs(first.start) - c.session.atMs;
      const periodMs = first.frames > 0 ? (first.duration_s * 1000) / first.frames : c.batchDuration * 1000;
      if (lateMs < 0) return fail(`the first frame is ${(-lateMs).toFixed(3)} ms before at`);
      if (lateMs >= 2 * periodMs)
        return fail(
          `the first frame is ${lateMs.toFixed(3)} ms after at (one frame: ${periodMs.toFixed(3)} ms)`,
        );
      return pass(`${lateMs.toFixed(3)} ms after at`);
    },
  },
  {
    name: "manifest: the batch events, files hashed",
    run: async (c) => {
      if (!c.session) return skip("no session was started");
      if (!c.dataDir) return skip("no --data-dir given (the node's data folder, read here)");
      const file = path.join(c.dataDir, c.session.name, "manifest.jsonl");
      if (!existsSync(file)) return fail(`no ${file}`);
      const lines = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.stringify(JSON.parse(l)));
      const events = sessionBatches(c).map((m) => JSON.stringify(JSON.parse(m.text)));
      if (lines.length !== events.length)
        return fail(`${lines.length} manifest lines, ${events.length} events`);
      for (const [i, l] of lines.entries()) {
        if (l !== events[i]) return fail(`manifest line ${i + 1} differs from batch event ${i}`);
        const b = JSON.parse(l) as BatchReady;
        const sha = createHash("sha256")
          .update(readFileSync(path.join(c.dataDir, b.file)))
          .digest("hex");
        if (sha !== b.sha256) return fail(`${b.file}: sha256 ${sha}, announced ${b.sha256}`);
      }
      return pass(`${lines.length} lines`);
    },
  },
];
