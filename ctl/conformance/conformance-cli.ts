import Table from "cli-table3";
import { pino } from "pino";
import { createColors } from "picocolors";
import { ConfigError, loadOptions } from "../../platform/config/config.js";
import { clientSchema } from "../../platform/config/config-schema-mqtt.js";
import { clientSecurity, type SecuritySettings } from "../../platform/mqtt/client-security.js";
import { connectVisitor } from "../../platform/mqtt/visitor.js";
import { redactUrl } from "../../platform/secrets.js";
import { assertName } from "../../contract/names.js";
import type { Validators } from "../../contract/schemas.js";
import { CHECKS, type Context, type Outcome } from "./checks.js";
import { Probe } from "./probe.js";
import type { Clock } from "../../platform/clock.js";

// labx conformance --target ID: any node on the broker (labx or another program speaking the contract)
// driven through every promise of the contract (checks.ts), one row each: pass, fail (what was seen)
// or skip (why). Exit 0 when nothing failed, 1 when something did, 2 a usage error, 3 no broker.

const conformanceSchema = {
  target: { doc: "The node's id.", format: String, default: "", arg: "target" },
  group: {
    doc: "A group of the node: the group check addresses it.",
    format: String,
    default: "",
    arg: "group",
  },
  data_dir: {
    doc: "The node's data folder, when it is readable here: the manifest and file hashes are checked.",
    format: String,
    default: "",
    arg: "data-dir",
  },
  duration: { doc: "Seconds of the recorded session.", format: "nat", default: 6, arg: "duration" },
  batch_duration: {
    doc: "Seconds per batch of that session.",
    format: "nat",
    default: 2,
    arg: "batch-duration",
  },
  timeout: { doc: "Seconds to wait for each answer.", format: "nat", default: 10, arg: "timeout" },
  json: { doc: "Print the table as JSON.", format: Boolean, default: false, arg: "json" },
  ...clientSchema,
};

type Options = { [K in keyof typeof conformanceSchema]: (typeof conformanceSchema)[K]["default"] };

export const CONFORMANCE_USAGE = `usage: labx conformance --target ID [options]
  Drives the node ID through every promise of the labx contract and prints pass/fail per promise.
  It records one short session on the node (--duration, --batch-duration), started with \`at\`.
  ${Object.values(conformanceSchema)
    .filter((s) => !("env" in s))
    .map((s) => `--${s.arg.padEnd(16)} ${s.doc}`)
    .join("\n  ")}
  and the broker options of labx start (--broker-url, --broker-username, …).
exit status: 0 nothing failed; 1 a check failed; 2 a usage error; 3 the broker could not be reached.`;

export interface ConformanceIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  validators: Validators;
  color: boolean;
  /** The process's time port (platform/clock.ts). */
  clock: Clock;
}

export interface Row {
  check: string;
  outcome: Outcome;
  detail: string;
}

/** Pure: the table printed at the end. */
export function renderRows(target: string, rows: readonly Row[], color: boolean): string {
  const c = createColors(color);
  const t = new Table({
    head: ["check", "result", "detail"].map((h) => c.bold(h)),
    style: { head: [], border: [] },
  });
  const paint = { pass: c.green, fail: c.red, skip: c.dim };
  for (const r of rows) t.push([r.check, paint[r.outcome](r.outcome), r.detail]);
  const count = (o: Outcome): number => rows.filter((r) => r.outcome === o).length;
  const verdict = count("fail") ? c.red(`${count("fail")} failed`) : c.green("conforms");
  return `${t.toString()}\n${target}: ${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped: ${verdict}\n`;
}

export async function runConformance(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: ConformanceIo,
): Promise<number> {
  if (argv.includes("--help")) {
    io.stdout.write(CONFORMANCE_USAGE + "\n");
    return 0;
  }
  const o = loadOptions<Options>(conformanceSchema, argv, env);
  if (!o.target) throw new ConfigError(`--target is needed\n${CONFORMANCE_USAGE}`);
  for (const [flag, name] of [
    ["--target", o.target],
    ["--group", o.group],
  ] as const)
    if (name) {
      try {
        assertName(name);
      } catch (err) {
        throw new ConfigError(`${flag}: ${(err as Error).message}`);
      }
    }
  let connection;
  try {
    connection = await connectVisitor({
      url: o.broker_url,
      clientId: `labx-conformance-${process.pid}`,
      security: clientSecurity(o as unknown as SecuritySettings),
      timeoutMs: o.timeout * 1000,
      log: pino({ level: "silent" }),
      clock: io.clock,
    });
  } catch (err) {
    io.stderr.write(
      `labx conformance: cannot reach the broker at ${redactUrl(o.broker_url)}: ${redactUrl((err as Error).message)}\n`,
    );
    return 3;
  }
  const rows: Row[] = [];
  try {
    const probe = new Probe(connection, o.base_topic, o.target, o.timeout * 1000, io.clock);
    await probe.subscribe([`${o.base_topic}/${o.target}/#`]);
    const ctx: Context = {
      probe,
      validators: io.validators,
      group: o.group || null,
      dataDir: o.data_dir || null,
      duration: o.duration,
      batchDuration: o.batch_duration,
      session: null,
      clock: io.clock,
    };
    for (const check of CHECKS) {
      const v = await check.run(ctx).catch((err: unknown) => ({
        outcome: "fail" as const,
        detail: `the check failed: ${(err as Error).message}`,
      }));
      rows.push({ check: check.name, ...v });
    }
  } finally {
    await connection.stop();
  }
  io.stdout.write(
    o.json
      ? JSON.stringify({ target: o.target, checks: rows }, null, 2) + "\n"
      : renderRows(o.target, rows, io.color),
  );
  return rows.some((r) => r.outcome === "fail") ? 1 : 0;
}
