import type { LatencyStats, PairAlignment } from "../../contract/generated/payloads.js";
import { ms3, quantile } from "../stats.js";

export type { LatencyStats, PairAlignment };

// Pure: from the time codes found in each node's frames, each node's latency (the frame's recorded time
// minus the time the code shows: camera + display, docs/time.md) and, between every two nodes, how far
// apart their times for one displayed instant are before and after each is corrected by its median.

/** One frame in which a time code was read. */
export interface CodeSample {
  /** Session frame number (the sidecar's `frame`). */
  frame: number;
  /** The frame's recorded time, as the node first stamped it (µs; without any latency correction). */
  frameUs: number;
  /** The time the code shows (µs). */
  codeUs: number;
}

const latencyUs = (s: CodeSample): number => s.frameUs - s.codeUs;

export function latencyStats(samples: readonly CodeSample[]): LatencyStats | null {
  if (samples.length === 0) return null;
  const l = samples.map(latencyUs).sort((x, y) => x - y);
  const q = (p: number): number => ms3(quantile(l, p) / 1000);
  return {
    samples: l.length,
    p1_ms: q(0.01),
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    min_ms: ms3(l[0]! / 1000),
    max_ms: ms3(l.at(-1)! / 1000),
    spread_ms: ms3((quantile(l, 0.99) - quantile(l, 0.01)) / 1000),
  };
}

/** The median latency in µs (exact, not rounded), the correction `labx verify --save` proposes. */
export function medianLatencyUs(samples: readonly CodeSample[]): number {
  return quantile(
    samples.map(latencyUs).sort((x, y) => x - y),
    0.5,
  );
}

/**
 * Every pair of nodes: each frame of `a` is paired with the frame of `b` whose code is nearest in time
 * (within `windowMs`, so both saw the same moment of the screen, to within the display's refresh).
 */
export function pairAlignment(
  nodes: readonly { node: string; samples: readonly CodeSample[] }[],
  windowMs: number,
): PairAlignment[] {
  const pairs: PairAlignment[] = [];
  for (let i = 0; i < nodes.length; i++)
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [nodes[i]!, nodes[j]!];
      const medA = medianLatencyUs(a.samples);
      const medB = medianLatencyUs(b.samples);
      const bs = [...b.samples].sort((x, y) => x.codeUs - y.codeUs);
      const raw: number[] = [];
      const corrected: number[] = [];
      let k = 0;
      for (const s of [...a.samples].sort((x, y) => x.codeUs - y.codeUs)) {
        while (
          k + 1 < bs.length &&
          Math.abs(bs[k + 1]!.codeUs - s.codeUs) <= Math.abs(bs[k]!.codeUs - s.codeUs)
        )
          k++;
        const t = bs[k];
        if (!t || Math.abs(t.codeUs - s.codeUs) > windowMs * 1000) continue;
        const d = latencyUs(s) - latencyUs(t);
        raw.push(d);
        corrected.push(Math.abs(d - (medA - medB)));
      }
      if (raw.length === 0) continue;
      raw.sort((x, y) => x - y);
      corrected.sort((x, y) => x - y);
      const absRaw = raw.map(Math.abs).sort((x, y) => x - y);
      pairs.push({
        a: a.node,
        b: b.node,
        matched: raw.length,
        raw_offset_ms: ms3(quantile(raw, 0.5) / 1000),
        raw_p99_ms: ms3(quantile(absRaw, 0.99) / 1000),
        corrected_p50_ms: ms3(quantile(corrected, 0.5) / 1000),
        corrected_p99_ms: ms3(quantile(corrected, 0.99) / 1000),
        corrected_max_ms: ms3(corrected.at(-1)! / 1000),
      });
    }
  return pairs;
}
