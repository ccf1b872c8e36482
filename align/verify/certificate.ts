import type { NodeCertificate, SyncCertificate } from "../../contract/generated/payloads.js";
import type { NodeSession } from "../session-reader.js";
import type { NodeScan } from "./frame-codes.js";
import { latencyStats, medianLatencyUs, pairAlignment } from "./latency.js";
import { ms3 } from "../stats.js";

export type { SyncCertificate };

// Pure: the sync certificate of a session, from the time codes each node recorded. It states what it
// measured: latency = the frame's recorded time − the time the code shows, so camera + display
// (the screen's refresh and input lag, the same for every camera that films one screen: it cancels in
// the cross-node figures; docs/time.md).

export const CERTIFICATE_FILE = "sync-certificate.json";
export const PLOT_FILE = "sync-certificate.png";

const iso = (us: number): string => new Date(Math.round(us / 1000)).toISOString();

/** The frame period (ms) of the fastest camera, from its frame times: one frame apart is "aligned". */
function framePeriodMs(sessions: readonly NodeSession[]): number | null {
  const periods = sessions.flatMap((s) => {
    const d = s.frames
      .slice(1)
      .map((f, i) => f.epochUs - s.frames[i]!.epochUs)
      .filter((x) => x > 0);
    d.sort((x, y) => x - y);
    return d.length ? [d[Math.floor(d.length / 2)]!] : [];
  });
  return periods.length ? ms3(Math.min(...periods) / 1000) : null;
}

export function buildCertificate(o: {
  session: string;
  sessions: readonly NodeSession[];
  scans: readonly NodeScan[];
  createdAt: Date;
  version: string;
  plot: string | null;
}): SyncCertificate {
  const nodes: Record<string, NodeCertificate> = {};
  for (const scan of o.scans) {
    const s = o.sessions.find((x) => x.node === scan.node)!;
    const applied = s.batches.find((b) => b.latency_ms !== undefined)?.latency_ms ?? null;
    const codes = scan.samples.map((x) => x.codeUs);
    nodes[scan.node] = {
      time_source: s.timeSource,
      batches: s.batches.length,
      frames_scanned: scan.framesScanned,
      frames_read: scan.framesRead,
      frames_decoded: scan.samples.length,
      latency: latencyStats(scan.samples),
      applied_latency_ms: applied,
      residual_p50_ms:
        applied !== null && scan.samples.length ? ms3(medianLatencyUs(scan.samples) / 1000 - applied) : null,
      codes_from: codes.length ? iso(Math.min(...codes)) : null,
      codes_to: codes.length ? iso(Math.max(...codes)) : null,
      batches_skipped: scan.mismatched,
    };
  }
  const period = framePeriodMs(o.sessions);
  const pairs = pairAlignment(
    o.scans.filter((s) => s.samples.length > 0).map((s) => ({ node: s.node, samples: s.samples })),
    period ?? 50,
  );
  const worst = (k: "raw_p99_ms" | "corrected_p99_ms"): number | null =>
    pairs.length ? Math.max(...pairs.map((p) => p[k])) : null;
  return {
    labx_sync_certificate: 1,
    session: o.session,
    created_at: o.createdAt.toISOString(),
    labx_version: o.version,
    measured:
      "latency = each frame's recorded time (as the node stamped it, before any correction) − the time its time code shows: the camera's delay plus the display's (refresh, input lag). Cross-node figures pair frames that saw the same moment of the screen: the display's share cancels there when every camera films the same screen.",
    nodes,
    pairs,
    alignment: {
      raw_p99_ms: worst("raw_p99_ms"),
      corrected_p99_ms: worst("corrected_p99_ms"),
      frame_period_ms: period,
    },
    plot: o.plot,
  };
}

/** The certificate for people: one line per node and per pair. */
export function renderCertificate(c: SyncCertificate): string {
  const f = (v: number | null | undefined, unit = " ms"): string =>
    v === null || v === undefined ? "–" : `${v}${unit}`;
  const lines = [`sync certificate of session ${c.session} (latency = camera + display)`];
  for (const [node, n] of Object.entries(c.nodes))
    lines.push(
      n.latency
        ? `  ${node}: latency p50 ${f(n.latency.p50_ms)}, p99 ${f(n.latency.p99_ms)}, spread ${f(n.latency.spread_ms)}; ${n.frames_decoded} frames decoded of ${n.frames_scanned}${n.applied_latency_ms !== null ? `; recorded with ${n.applied_latency_ms} ms applied, residual ${f(n.residual_p50_ms)}` : ""}`
        : `  ${node}: no time code found in ${n.frames_scanned} frames (${n.frames_read} read)`,
    );
  for (const p of c.pairs)
    lines.push(
      `  ${p.a} ~ ${p.b}: ${p.matched} instants; raw ${p.a} − ${p.b} ${f(p.raw_offset_ms)} (|Δ| p99 ${f(p.raw_p99_ms)}); corrected |Δ| p50 ${f(p.corrected_p50_ms)}, p99 ${f(p.corrected_p99_ms)}, max ${f(p.corrected_max_ms)}`,
    );
  if (c.alignment.corrected_p99_ms !== null)
    lines.push(
      `  aligned after correction to ${f(c.alignment.corrected_p99_ms)} (p99, worst pair); one frame is ${f(c.alignment.frame_period_ms)}`,
    );
  return lines.join("\n") + "\n";
}
