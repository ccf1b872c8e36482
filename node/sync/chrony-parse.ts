// Pure parsers for `chronyc -c tracking` and `chronyc -c sources`, and the judgement of "synced".

export interface Tracking {
  refId: string;
  source: string;
  stratum: number;
  /** System clock minus NTP time, seconds (positive: the local clock is ahead). */
  offsetS: number;
  lastOffsetS: number;
  rmsOffsetS: number;
  skewPpm: number;
  rootDelayS: number;
  rootDispersionS: number;
  leap: string;
}

export interface Source {
  mode: string;
  /** '*' selected, '+' combined, '-' not combined, '?' unreachable, 'x' falseticker, '~' too variable. */
  state: string;
  name: string;
  stratum: number;
  /** Reachability register (8 bits): 0 when the last 8 polls all went unanswered. */
  reach: number;
}

export function parseTracking(csv: string): Tracking {
  const f = csv.trim().split("\n")[0]!.split(",");
  if (f.length < 14) throw new Error(`unexpected chronyc tracking output: ${csv.slice(0, 200)}`);
  const n = (i: number): number => {
    const v = Number(f[i]);
    if (!Number.isFinite(v)) throw new Error(`chronyc tracking field ${i} is not a number: ${f[i]}`);
    return v;
  };
  return {
    refId: f[0]!,
    source: f[1]!,
    stratum: n(2),
    offsetS: n(4),
    lastOffsetS: n(5),
    rmsOffsetS: n(6),
    skewPpm: n(9),
    rootDelayS: n(10),
    rootDispersionS: n(11),
    leap: f[13]!.trim(),
  };
}

export function parseSources(csv: string): Source[] {
  return csv
    .trim()
    .split("\n")
    .filter((l) => l.includes(","))
    .map((l) => {
      const f = l.split(",");
      return { mode: f[0]!, state: f[1]!, name: f[2]!, stratum: Number(f[3]), reach: parseInt(f[5]!, 8) };
    });
}

export interface ClockAssessment {
  synced: boolean;
  /** Why not synced; absent when synced. */
  reason?: string;
  rootDistanceS: number;
}

/**
 * Synced means: leap status Normal, a selected source ('*') that is still reachable, and a root
 * distance (root delay / 2 + root dispersion) within the bound. `tracking` alone is not enough: it
 * keeps saying Normal long after the server is gone, while the source turns '?' and dispersion grows.
 */
export function assessClock(t: Tracking, sources: Source[], maxRootDistanceS: number): ClockAssessment {
  const rootDistanceS = t.rootDelayS / 2 + t.rootDispersionS;
  const selected = sources.find((s) => s.state === "*");
  if (t.leap !== "Normal") return { synced: false, reason: `leap status ${t.leap}`, rootDistanceS };
  if (!selected) return { synced: false, reason: "no selected time source", rootDistanceS };
  if (selected.reach === 0)
    return { synced: false, reason: `source ${selected.name} unreachable`, rootDistanceS };
  if (rootDistanceS > maxRootDistanceS)
    return {
      synced: false,
      reason: `root distance ${(rootDistanceS * 1000).toFixed(3)} ms exceeds ${(maxRootDistanceS * 1000).toFixed(3)} ms`,
      rootDistanceS,
    };
  return { synced: true, rootDistanceS };
}
