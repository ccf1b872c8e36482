import type { Gap, NodeSession } from "./session-reader.js";
import { quantile } from "./stats.js";
import { foundGaps, nodeRate, type Timeline } from "./timeline.js";

// Pure: what the researcher needs to trust (or distrust) the index: per node its batches, frames,
// first and last frame, gaps (announced by the node and found in the frame times), time source and
// clock over the session; per pair of nodes, how far apart their frames at the same tick are.

const iso = (us: number): string =>
  new Date(Math.floor(us / 1000))
    .toISOString()
    .replace(/\.\d+Z$/, `.${String(Math.round(us % 1e6)).padStart(6, "0")}Z`);

export interface NodeSummary {
  batches: number;
  frames: number;
  /** The node's own frames (or samples) per second: the median interval between them. */
  rate: number | null;
  first_frame: string;
  last_frame: string;
  time_source: string;
  /** Ticks of the common timeline with no frame of this node within half a tick. */
  missing_ticks: number;
  gaps_announced: { start: string; end: string; s: number }[];
  gaps_found: { start: string; end: string; s: number }[];
  clock: {
    synced_batches: number;
    unsynced_batches: number;
    worst_offset_s: number | null;
    worst_root_distance_s: number | null;
  };
}

export interface PairSummary {
  a: string;
  b: string;
  /** Ticks where both have a frame. */
  matched: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  verdict: "aligned" | "clock not synced" | "misaligned";
}

export interface SessionSummary {
  session: string;
  rate: number;
  period_ms: number;
  ticks: number;
  start: string;
  nodes: Record<string, NodeSummary>;
  pairs: PairSummary[];
}

const gapText = (g: Gap): { start: string; end: string; s: number } => ({
  start: iso(g.startUs),
  end: iso(g.endUs),
  s: Math.round(g.endUs - g.startUs) / 1e6,
});

function nodeSummary(n: NodeSession, t: Timeline): NodeSummary {
  const clocks = n.batches.map((b) => b.clock);
  const worst = (pick: (c: (typeof clocks)[number]) => number | null | undefined): number | null => {
    const xs = clocks.map(pick).filter((x): x is number => typeof x === "number");
    return xs.length ? xs.reduce((m, x) => (Math.abs(x) > Math.abs(m) ? x : m)) : null;
  };
  const rate = nodeRate(n);
  return {
    batches: n.batches.length,
    frames: n.frames.length,
    rate: Number.isFinite(rate) ? rate : null,
    first_frame: iso(n.frames[0]!.epochUs),
    last_frame: iso(n.frames.at(-1)!.epochUs),
    time_source: n.timeSource,
    missing_ticks: t.rows.filter((r) => r.node === n.node && r.frameUs === null).length,
    gaps_announced: n.announcedGaps.map(gapText),
    gaps_found: foundGaps(n, Number.isFinite(rate) ? rate : t.rate).map(gapText),
    clock: {
      synced_batches: clocks.filter((c) => c.synced).length,
      unsynced_batches: clocks.filter((c) => !c.synced).length,
      worst_offset_s: worst((c) => c.offset_s),
      worst_root_distance_s: worst((c) => c.root_distance_s),
    },
  };
}

export function summarize(session: string, nodes: readonly NodeSession[], t: Timeline): SessionSummary {
  const periodMs = 1000 / t.rate;
  const at = new Map<string, (number | null)[]>();
  for (const r of t.rows) {
    const xs = at.get(r.node) ?? [];
    xs[r.tick] = r.frameUs;
    at.set(r.node, xs);
  }
  const summaries = Object.fromEntries(nodes.map((n) => [n.node, nodeSummary(n, t)]));
  const pairs: PairSummary[] = [];
  for (let i = 0; i < nodes.length; i++)
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [nodes[i]!.node, nodes[j]!.node];
      const xa = at.get(a)!;
      const xb = at.get(b)!;
      const diffs: number[] = [];
      for (let k = 0; k < t.ticks; k++)
        if (xa[k] != null && xb[k] != null) diffs.push(Math.abs(xa[k]! - xb[k]!) / 1000);
      diffs.sort((x, y) => x - y);
      const p99 = quantile(diffs, 0.99);
      const synced = [a, b].every((n) => summaries[n]!.clock.unsynced_batches === 0);
      pairs.push({
        a,
        b,
        matched: diffs.length,
        p50_ms: Math.round(quantile(diffs, 0.5) * 1000) / 1000,
        p99_ms: Math.round(p99 * 1000) / 1000,
        max_ms: Math.round((diffs.at(-1) ?? NaN) * 1000) / 1000,
        verdict: !(p99 < periodMs) ? "misaligned" : synced ? "aligned" : "clock not synced",
      });
    }
  return {
    session,
    rate: t.rate,
    period_ms: Math.round(periodMs * 1000) / 1000,
    ticks: t.ticks,
    start: iso(t.t0Us),
    nodes: summaries,
    pairs,
  };
}
