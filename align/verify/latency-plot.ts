import type { SyncCertificate } from "./certificate.js";
import type { CodeSample } from "./latency.js";

// Pure: the certificate's plot as SVG: each node's latency (ms) over the seconds of its time codes, one
// colour per node, its median as a line; the legend names each node's p50 and p99, the title the
// corrected alignment. Rasterized to PNG by svg-png.ts.

const COLOURS = ["#1f5fbf", "#c62828", "#1a7f37", "#b35c00", "#6a3fb5", "#00838f", "#ad1457", "#5d4037"];
const W = 960;
const H = 540;
const M = { left: 70, right: 24, bottom: 56 };

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round steps (1, 2, 5 × 10^k) covering [lo, hi] in about `n` ticks. */
export function ticks(lo: number, hi: number, n = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

export function latencyPlotSvg(
  cert: SyncCertificate,
  samples: ReadonlyMap<string, readonly CodeSample[]>,
): string {
  const series = [...samples].filter(([, s]) => s.length > 0);
  const t0 = Math.min(...series.flatMap(([, s]) => s.map((x) => x.codeUs)));
  const points = series.map(([node, s]) => ({
    node,
    xy: s.map((x) => [(x.codeUs - t0) / 1e6, (x.frameUs - x.codeUs) / 1000] as const),
  }));
  const xs = points.flatMap((p) => p.xy.map(([x]) => x));
  const ys = points.flatMap((p) => p.xy.map(([, y]) => y));
  const [xMax, yLo, yHi] = xs.length ? [Math.max(...xs, 1), Math.min(...ys), Math.max(...ys)] : [1, 0, 1];
  const pad = Math.max(2, (yHi - yLo) * 0.08);
  const [y0, y1] = [Math.max(0, Math.floor(yLo - pad)), Math.ceil(yHi + pad)];
  // Title, two lines of explanation, then one legend line per node, above the plot.
  const top = 86 + 20 * points.length;
  const px = (x: number): number => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  ];
  const corrected = cert.alignment.corrected_p99_ms;
  out.push(
    `<text x="${M.left}" y="26" font-size="18" font-weight="bold">labx sync certificate · session ${esc(cert.session)}</text>`,
    `<text x="${M.left}" y="48" font-size="13" fill="#444">latency = recorded frame time − time code shown (camera + display), per frame</text>`,
    `<text x="${M.left}" y="66" font-size="13" fill="#444">${corrected !== null ? `each node corrected by its median: aligned to ${corrected} ms p99, worst pair (one frame: ${cert.alignment.frame_period_ms} ms)` : "one node: no cross-node alignment"}</text>`,
  );
  for (const t of ticks(y0, y1)) {
    if (t < y0 || t > y1) continue;
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e3e6ea"/>`,
      `<text x="${M.left - 8}" y="${(py(t) + 4).toFixed(1)}" font-size="12" text-anchor="end" fill="#444">${t}</text>`,
    );
  }
  for (const t of ticks(0, xMax)) {
    if (t > xMax) continue;
    out.push(
      `<text x="${px(t).toFixed(1)}" y="${H - M.bottom + 18}" font-size="12" text-anchor="middle" fill="#444">${t}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${H - M.bottom}" stroke="#888"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 16}" font-size="13" text-anchor="middle">seconds from the first time code</text>`,
    `<text transform="translate(18 ${(top + H - M.bottom) / 2}) rotate(-90)" font-size="13" text-anchor="middle">latency (ms)</text>`,
  );
  points.forEach((p, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const stats = cert.nodes[p.node]?.latency;
    if (stats)
      out.push(
        `<line x1="${M.left}" x2="${W - M.right}" y1="${py(stats.p50_ms).toFixed(1)}" y2="${py(stats.p50_ms).toFixed(1)}" stroke="${colour}" stroke-dasharray="6 4" stroke-width="1"/>`,
      );
    for (const [x, y] of p.xy)
      out.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.2" fill="${colour}" fill-opacity="0.75"/>`,
      );
    const ly = 90 + i * 20;
    out.push(
      `<rect x="${M.left}" y="${ly - 10}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${M.left + 18}" y="${ly + 1}" font-size="13">${esc(p.node)}: latency p50 ${stats?.p50_ms ?? "–"} ms, p99 ${stats?.p99_ms ?? "–"} ms, spread ${stats?.spread_ms ?? "–"} ms (${p.xy.length} frames; dashed: its median)</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
