import type { Gap, NodeSession } from "./session-reader.js";

// Pure: the session's common timeline. Ticks at a fixed rate from the earliest first frame to the
// latest last frame of any node; for every tick and every node, the node's nearest frame, or "missing"
// when none lies within half a tick of it. Every node gets one row per tick: the equal frame counts
// that 3-D reconstruction tools need, with the holes marked instead of closed up.

export interface TimelineRow {
  tick: number;
  tickUs: number;
  node: string;
  /** Null when missing. */
  file: string | null;
  batchFrame: number | null;
  frame: number | null;
  frameUs: number | null;
  /** Frame time − tick time, µs. */
  errorUs: number | null;
}

export interface Timeline {
  rate: number;
  t0Us: number;
  ticks: number;
  rows: TimelineRow[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** A node's own rate: the median interval between its consecutive frames (or samples), 0.001 fps. */
export function nodeRate(n: NodeSession): number {
  const intervals = n.frames.slice(1).map((f, i) => f.epochUs - n.frames[i]!.epochUs);
  const rate = 1e6 / median(intervals.filter((d) => d > 0));
  return Number.isFinite(rate) ? Math.round(rate * 1000) / 1000 : NaN;
}

/**
 * The timeline's default rate: the slowest node's own rate, so that every node has a frame at every
 * tick (cameras at 30 fps beside a 100 Hz sensor: 30 ticks a second, the sensor's nearest sample each).
 */
export function nominalRate(nodes: readonly NodeSession[]): number {
  const rates = nodes.map(nodeRate).filter((r) => Number.isFinite(r));
  if (rates.length === 0) throw new Error("too few frames to find the nodes' rates: give --rate");
  return Math.min(...rates);
}

export function buildTimeline(nodes: readonly NodeSession[], rate: number): Timeline {
  const periodUs = 1e6 / rate;
  const t0Us = Math.min(...nodes.map((n) => n.frames[0]!.epochUs));
  const lastUs = Math.max(...nodes.map((n) => n.frames.at(-1)!.epochUs));
  const ticks = Math.floor((lastUs - t0Us) / periodUs + 1e-9) + 1;
  const rows: TimelineRow[] = [];
  for (const n of nodes) {
    let j = 0;
    for (let k = 0; k < ticks; k++) {
      const tickUs = t0Us + Math.round(k * periodUs);
      while (
        j + 1 < n.frames.length &&
        Math.abs(n.frames[j + 1]!.epochUs - tickUs) <= Math.abs(n.frames[j]!.epochUs - tickUs)
      )
        j++;
      const f = n.frames[j]!;
      const errorUs = f.epochUs - tickUs;
      const hit = Math.abs(errorUs) < periodUs / 2;
      rows.push({
        tick: k,
        tickUs,
        node: n.node,
        file: hit ? f.file : null,
        batchFrame: hit ? f.batchFrame : null,
        frame: hit ? f.frame : null,
        frameUs: hit ? f.epochUs : null,
        errorUs: hit ? errorUs : null,
      });
    }
  }
  return { rate, t0Us, ticks, rows };
}

/**
 * Pure: stretches where consecutive frames lie more than 1.5 periods of `rate` apart (frames the camera
 * lost); the summary gives each node its own rate (nodeRate).
 */
export function foundGaps(n: NodeSession, rate: number): Gap[] {
  const limit = 1.5e6 / rate;
  return n.frames
    .slice(1)
    .flatMap((f, i) =>
      f.epochUs - n.frames[i]!.epochUs > limit ? [{ startUs: n.frames[i]!.epochUs, endUs: f.epochUs }] : [],
    );
}
