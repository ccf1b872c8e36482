import Table from "cli-table3";
import cliProgress from "cli-progress";
import { createColors } from "picocolors";
import type { NodeState } from "../contract/generated/payloads.js";
import type { FleetView, NodeView } from "../platform/control/fleet-view.js";
import type { CommandResult } from "../platform/control/send-command.js";

type Colors = ReturnType<typeof createColors>;

function table(head: string[], c: Colors): Table.Table {
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] } });
}

function stateText(state: NodeState["state"] | undefined, c: Colors): string {
  if (!state) return c.dim("?");
  const paint = { idle: c.dim, scheduled: c.cyan, recording: c.green, stopping: c.yellow, error: c.red }[
    state
  ];
  return paint(state);
}

/** Pure: the table `labx start|stop|status` prints. */
export function renderResult(result: CommandResult, color: boolean): string {
  const c = createColors(color);
  const t = table(["node", "result", "state", "session", "batches", "detail"], c);
  for (const r of result.rows) {
    const outcome = r.ok ? c.green("ok") : c.red(r.code ?? r.outcome.toUpperCase());
    const detail = r.ok ? (r.state?.error ?? scheduleNote(r.state)) : (r.message ?? "");
    t.push([
      r.node,
      outcome,
      r.state ? stateText(r.state.state, c) : "",
      r.state?.session ?? "",
      r.state ? String(r.state.batches) : "",
      detail,
    ]);
  }
  const answered = result.rows.filter((r) => r.outcome === "replied").length;
  const summary = result.rows.length
    ? `${result.command.cmd} → ${result.target}: ${answered} of ${result.rows.length} answered, ${result.ok ? c.green("all ok") : c.red("not all ok")}`
    : `${result.command.cmd} → ${result.target}: ${c.red("no node answered")} (none is known on the broker)`;
  return `${t.toString()}\n${summary}`;
}

function scheduleNote(state: NodeState | undefined): string {
  return state?.state === "scheduled" && state.scheduled_at ? `starts at ${state.scheduled_at}` : "";
}

/** Fraction of a timed session done, from its first frame's wall-clock time; null when untimed. */
export function sessionProgress(state: NodeState | null, now: Date): number | null {
  if (!state || state.state !== "recording" || !state.duration || !state.started_at) return null;
  const elapsed = (now.getTime() - Date.parse(state.started_at)) / 1000;
  return Math.min(1, Math.max(0, elapsed / state.duration));
}

function progressCell(v: NodeView, now: Date): string {
  const p = sessionProgress(v.state, now);
  if (p === null) {
    if (v.state?.state === "recording") return "until stop";
    if (v.state?.state === "scheduled" && v.state.scheduled_at)
      return `in ${Math.max(0, Math.round((Date.parse(v.state.scheduled_at) - now.getTime()) / 1000))} s`;
    return "";
  }
  const bar = cliProgress.Format.BarFormat(p, {
    barsize: 20,
    barCompleteString: "█".repeat(20),
    barIncompleteString: "░".repeat(20),
    barGlue: "",
  });
  return `${bar} ${Math.floor(p * 100)}%`;
}

function age(iso: string | undefined, now: Date): string {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/** Pure: the `labx watch` table at `now`. */
export function renderWatch(view: FleetView, now: Date, color: boolean): string {
  const c = createColors(color);
  const t = table(
    [
      "node",
      "avail.",
      "state",
      "session",
      "batches",
      "last batch",
      "clock offset",
      "synced",
      "free",
      "upload",
      "progress",
    ],
    c,
  );
  const nodes = [...view.values()].sort((a, b) => a.node.localeCompare(b.node));
  for (const v of nodes) {
    const avail = v.availability === "online" ? c.green("online") : c.red(v.availability ?? "?");
    const last = v.lastBatch && v.lastBatch.session === v.state?.session ? v.lastBatch : null;
    const clock = v.clock;
    t.push([
      v.node,
      avail,
      stateText(v.state?.state, c),
      v.state?.session ?? "",
      v.state ? String(v.state.batches) : "",
      last ? `#${last.seq} ${age(last.end, now)}` : "",
      clock?.offset_s !== undefined && clock.offset_s !== null
        ? `${(clock.offset_s * 1000).toFixed(3)} ms`
        : "",
      clock ? (clock.synced ? c.green("yes") : c.red("no")) : c.dim("off"),
      v.state?.free_mb !== undefined ? `${(v.state.free_mb / 1024).toFixed(1)} GiB` : "",
      uploadCell(v.state?.upload, now, c),
      progressCell(v, now),
    ]);
  }
  const online = nodes.filter((v) => v.availability === "online").length;
  const recording = nodes.filter((v) => v.state?.state === "recording").length;
  return `${t.toString()}\n${nodes.length} nodes, ${online} online, ${recording} recording · ${now.toISOString()}`;
}

/** The upload backlog: "done", or what waits (files, MiB, the oldest's age), red when the store refused. */
function uploadCell(u: NodeState["upload"], now: Date, c: Colors): string {
  if (!u) return "";
  if (u.pending === 0) return c.green("done");
  const text = `${u.pending} files ${(u.pending_bytes / 1048576).toFixed(1)} MiB${u.oldest ? ` ${age(u.oldest, now)}` : ""}`;
  return u.last_error ? c.red(text) : text;
}

/** Pure: the `--json` form of a watch snapshot. */
export function watchJson(view: FleetView, now: Date): object {
  return {
    at: now.toISOString(),
    nodes: [...view.values()]
      .sort((a, b) => a.node.localeCompare(b.node))
      .map((v) => ({ ...v, progress: sessionProgress(v.state, now) })),
  };
}
