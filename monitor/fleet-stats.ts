import type { ClockStatus, FleetClock } from "../contract/generated/payloads.js";

/** Pure: the old central server's figures from the nodes' latest clock statuses. */
export function fleetStats(clocks: readonly ClockStatus[], session: string | null, now: Date): FleetClock {
  const withOffset = clocks.filter((c) => c.offset_s !== null);
  const offsets = withOffset.map((c) => c.offset_s!);
  const diffs: number[] = [];
  for (let i = 0; i < offsets.length; i++)
    for (let j = i + 1; j < offsets.length; j++) diffs.push(Math.abs(offsets[i]! - offsets[j]!));
  const mean = (xs: number[]): number | null =>
    xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  const m = mean(offsets);
  const dispersions = withOffset.map((c) => c.root_dispersion_s).filter((d): d is number => d !== null);
  return {
    nodes: withOffset.map((c) => c.node).sort(),
    synced_nodes: withOffset
      .filter((c) => c.synced)
      .map((c) => c.node)
      .sort(),
    max_pairwise_offset_s: diffs.length ? Math.max(...diffs) : null,
    mean_pairwise_offset_s: mean(diffs),
    jitter_s: m === null ? null : Math.sqrt(mean(offsets.map((o) => (o - m) ** 2))!),
    mean_root_dispersion_s: mean(dispersions),
    max_root_dispersion_s: dispersions.length ? Math.max(...dispersions) : null,
    session,
    computed_at: now.toISOString(),
  };
}

export const FLEET_CSV_HEADER =
  "computed_at,nodes,synced_nodes,max_pairwise_offset_s,mean_pairwise_offset_s,jitter_s,mean_root_dispersion_s,max_root_dispersion_s";

export function fleetCsvRow(f: FleetClock): string {
  const n = (x: number | null) => (x === null ? "" : String(x));
  return [
    f.computed_at,
    f.nodes.length,
    f.synced_nodes.length,
    n(f.max_pairwise_offset_s),
    n(f.mean_pairwise_offset_s),
    n(f.jitter_s),
    n(f.mean_root_dispersion_s),
    n(f.max_root_dispersion_s),
  ].join(",");
}
