import { createWriteStream, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Validators } from "../contract/schemas.js";
import { ConfigError, loadOptions } from "../platform/config/config.js";
import { fetchSession, storeSchema } from "./fetch-cli.js";
import { findSessionDir, readNodeSessions, type NodeSession } from "./session-reader.js";
import { summarize, type SessionSummary } from "./summary.js";
import { buildTimeline, nominalRate, type Timeline } from "./timeline.js";

// labx align SESSION --from DIR --out DIR [--rate FPS] [--json]: one index of a session recorded by
// several nodes. DIR holds one folder per node (its data directory, or a copy, or the session folder
// itself). Writes timeline.csv (one row per tick and node) and summary.json into --out.

const alignSchema = {
  from: {
    doc: "Folder with one folder per node (its data directory or a copy).",
    format: String,
    default: "",
    arg: "from",
  },
  out: {
    doc: "Folder to write timeline.csv and summary.json into.",
    format: String,
    default: "",
    arg: "out",
  },
  rate: {
    doc: "Ticks per second of the common timeline (0: the slowest node's own rate, so every node has a frame or sample at every tick).",
    format: Number,
    default: 0,
    arg: "rate",
  },
  json: { doc: "Print the summary as JSON.", format: Boolean, default: false, arg: "json" },
  ...storeSchema,
};

export const ALIGN_USAGE = `usage: labx align SESSION --from DIR|s3://BUCKET/PREFIX --out DIR [--rate FPS] [--json]
  ${Object.values(alignSchema)
    .map((s) => `--${s.arg.padEnd(6)} ${s.doc}`)
    .join("\n  ")}`;

/** Every node's share of `session` under `from` (each sub-folder, or `from` itself). */
export function readSession(
  from: string,
  session: string,
  validators: Pick<Validators, "batch">,
): NodeSession[] {
  const folders = [
    from,
    ...readdirSync(from)
      .map((d) => path.join(from, d))
      .filter((d) => statSync(d).isDirectory()),
  ];
  const dirs = [
    ...new Set(folders.map((f) => findSessionDir(f, session)).filter((d): d is string => d !== null)),
  ];
  if (dirs.length === 0)
    throw new ConfigError(
      `no folder under ${from} holds session ${session} (a manifest.jsonl in ${session}/)`,
    );
  return readNodeSessions(dirs, validators);
}

function writeTimeline(file: string, t: Timeline): Promise<void> {
  const out = createWriteStream(file);
  const sec = (us: number | null): string => (us === null ? "" : (us / 1e6).toFixed(6));
  out.write("tick,tick_epoch_s,node,file,batch_frame,frame,frame_epoch_s,error_ms,missing\n");
  for (const r of t.rows)
    out.write(
      `${r.tick},${sec(r.tickUs)},${r.node},${r.file ?? ""},${r.batchFrame ?? ""},${r.frame ?? ""},${sec(r.frameUs)},${r.errorUs === null ? "" : (r.errorUs / 1000).toFixed(3)},${r.frameUs === null ? 1 : 0}\n`,
    );
  return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

export function renderSummary(s: SessionSummary): string {
  const lines = [
    `session ${s.session}: ${Object.keys(s.nodes).length} nodes, ${s.ticks} ticks at ${s.rate} fps from ${s.start}`,
    ...Object.entries(s.nodes).map(
      ([n, v]) =>
        `  ${n}: ${v.batches} batches, ${v.frames} frames${v.rate ? ` at ${v.rate}/s` : ""}, ${v.missing_ticks} ticks missing, ${v.gaps_announced.length} gaps announced, ${v.gaps_found.length} found, ${v.time_source}, clock ${v.clock.unsynced_batches ? `unsynced in ${v.clock.unsynced_batches} batches` : "synced"}`,
    ),
    ...s.pairs.map(
      (p) =>
        `  ${p.a} ~ ${p.b}: ${p.matched} ticks, |Δt| p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, max ${p.max_ms} ms: ${p.verdict}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

export async function runAlign(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  deps: { validators: Pick<Validators, "batch">; err: NodeJS.WritableStream },
): Promise<number> {
  const [session, ...rest] = argv;
  if (!session || session.startsWith("--")) throw new ConfigError(`a session is needed\n${ALIGN_USAGE}`);
  const o = loadOptions<{
    from: string;
    out: string;
    rate: number;
    json: boolean;
    endpoint: string;
    region: string;
  }>(alignSchema, rest, env);
  if (!o.from || !o.out) throw new ConfigError(`--from and --out are needed\n${ALIGN_USAGE}`);
  let from = o.from;
  if (from.startsWith("s3://")) {
    from = path.join(o.out, "data");
    await fetchSession({ ...o, to: from }, session, null, (t) => deps.err.write(`labx align: ${t}\n`));
  }
  const nodes = readSession(from, session, deps.validators);
  for (const line of nodes.flatMap((n) => n.skipped)) deps.err.write(`labx align: skipped: ${line}\n`);
  const timeline = buildTimeline(nodes, o.rate > 0 ? o.rate : nominalRate(nodes));
  const summary = summarize(session, nodes, timeline);
  mkdirSync(o.out, { recursive: true });
  await writeTimeline(path.join(o.out, "timeline.csv"), timeline);
  writeFileSync(path.join(o.out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  out.write(o.json ? JSON.stringify(summary, null, 2) + "\n" : renderSummary(summary));
  return 0;
}
