import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { latencyStats, medianLatencyUs, pairAlignment, type CodeSample } from "../../align/verify/latency.js";
import { PgmSplitter } from "../../align/verify/pgm-frames.js";
import { buildCertificate, renderCertificate } from "../../align/verify/certificate.js";
import { latencyPlotSvg, ticks } from "../../align/verify/latency-plot.js";
import { sessionFolders } from "../../align/verify/verify-cli.js";
import type { NodeSession } from "../../align/session-reader.js";
import type { NodeScan } from "../../align/verify/frame-codes.js";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { tempDir } from "../helpers/node.js";
import { createValidators } from "../../contract/schemas.js";

const T0 = 1_796_000_000_000_000;
const PERIOD = 33_333;

/** Frames of a camera exposed every PERIOD µs from `phase`, recorded `latency(n)` µs later. */
const camera = (count: number, phase: number, latency: (n: number) => number): CodeSample[] =>
  Array.from({ length: count }, (_, n) => {
    const codeUs = T0 + phase + n * PERIOD;
    return { frame: n, codeUs, frameUs: codeUs + latency(n) };
  });

describe("latency figures (align/verify/latency.ts)", () => {
  it("summarizes a node's latencies in ms", () => {
    const s = latencyStats(camera(100, 0, (n) => 40_000 + n * 10))!;
    assert.equal(s.samples, 100);
    assert.equal(s.min_ms, 40);
    assert.equal(s.max_ms, 40.99);
    assert.equal(s.p50_ms, 40.5);
    assert.equal(s.p1_ms, 40.01);
    assert.equal(s.p99_ms, 40.99);
    assert.equal(s.spread_ms, 0.98);
    assert.equal(latencyStats([]), null);
    assert.equal(medianLatencyUs(camera(3, 0, (n) => [5, 1, 9][n]!)), 5);
  });

  it("pairs frames that saw the same instant: raw offset is the latency difference, corrected the residuals'", () => {
    // Residuals of ±2 ms alternate on one camera; the other is steady.
    const a = camera(60, 0, (n) => 40_000 + (n % 2 ? 2000 : -2000));
    const b = camera(60, 5_000, () => 90_000);
    const [p] = pairAlignment(
      [
        { node: "A", samples: a },
        { node: "B", samples: b },
      ],
      PERIOD / 1000,
    );
    assert.ok(p);
    assert.equal(p.matched, 60);
    assert.ok(Math.abs(p.raw_offset_ms - -50) <= 2);
    assert.equal(p.raw_p99_ms, 52);
    // Corrected by their medians (A: 42 ms, the upper middle of ±2; B: 90 ms): |Δ| is 0 or 4 ms.
    assert.equal(p.corrected_max_ms, 4);
    assert.ok(p.corrected_p99_ms <= 4);
  });

  it("leaves frames unpaired when no frame of the other node saw an instant within the window", () => {
    const pairs = pairAlignment(
      [
        { node: "A", samples: camera(10, 0, () => 1000) },
        { node: "B", samples: camera(10, 10 * PERIOD, () => 1000) },
      ],
      10,
    );
    assert.deepEqual(pairs, []);
  });

  it("is invariant to shifting every time by the same amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (shift) => {
        const move = (s: CodeSample[]): CodeSample[] =>
          s.map((x) => ({ ...x, codeUs: x.codeUs + shift, frameUs: x.frameUs + shift }));
        const a = camera(30, 0, (n) => 40_000 + n * 37);
        const b = camera(30, 900, (n) => 70_000 - n * 11);
        const nodes = (x: CodeSample[], y: CodeSample[]) => [
          { node: "A", samples: x },
          { node: "B", samples: y },
        ];
        assert.deepEqual(pairAlignment(nodes(move(a), move(b)), 40), pairAlignment(nodes(a, b), 40));
        assert.deepEqual(latencyStats(move(a)), latencyStats(a));
      }),
    );
  });
});

describe("PGM frames from a pipe (align/verify/pgm-frames.ts)", () => {
  const pgm = (w: number, h: number, fill: number): Buffer =>
    Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), Buffer.alloc(w * h, fill)]);

  it("splits frames whatever the chunk boundaries", () => {
    const stream = Buffer.concat([pgm(4, 3, 1), pgm(4, 3, 2), pgm(2, 2, 3)]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
        const at = [...new Set(cuts)].sort((x, y) => x - y);
        const chunks = [0, ...at].map((c, i) => stream.subarray(c, at[i] ?? stream.length));
        const s = new PgmSplitter();
        const frames = chunks.flatMap((c) => s.push(c));
        assert.deepEqual(
          frames.map((f) => [f.width, f.height, f.pixels.length, f.pixels[0]]),
          [
            [4, 3, 12, 1],
            [4, 3, 12, 2],
            [2, 2, 4, 3],
          ],
        );
        assert.equal(s.leftover, 0);
      }),
    );
  });

  it("refuses what is not 8-bit PGM", () => {
    assert.throws(() => new PgmSplitter().push(Buffer.from("GIF89a....")), /not a PGM stream/);
    assert.throws(() => new PgmSplitter().push(Buffer.from("P5\n2 2\n65535\n")), /16-bit/);
    const torn = new PgmSplitter();
    assert.deepEqual(torn.push(pgm(4, 4, 0).subarray(0, 20)), []);
    assert.equal(torn.leftover, 20);
  });
});

const batch = (node: string, extra: Partial<BatchReady> = {}): BatchReady => ({
  node,
  session: "tc1",
  seq: 0,
  file: `tc1/${node}_tc1_00000.mkv`,
  start: "2026-12-02T08:00:00.000000Z",
  end: "2026-12-02T08:00:02.000000Z",
  duration_s: 2,
  frames: 60,
  frames_file: `tc1/${node}_tc1_00000.frames.csv`,
  bytes: 1,
  sha256: "0".repeat(64),
  clock: { synced: true },
  ...extra,
});

const session = (node: string, samples: CodeSample[], extra: Partial<BatchReady> = {}): NodeSession => ({
  node,
  dir: `/data/${node}/tc1`,
  batches: [batch(node, extra)],
  frames: samples.map((s, i) => ({
    file: "f",
    seq: 0,
    frame: i,
    batchFrame: i,
    epochUs: s.frameUs,
    rawEpochUs: s.frameUs,
  })),
  announcedGaps: [],
  timeSource: "arrival",
  skipped: [],
});

const scan = (node: string, samples: CodeSample[]): NodeScan => ({
  node,
  samples,
  framesScanned: samples.length + 5,
  framesRead: samples.length + 2,
  mismatched: [],
});

describe("sync certificate (align/verify/certificate.ts, latency-plot.ts)", () => {
  const a = camera(60, 0, (n) => 40_000 + (n % 3) * 1000);
  const b = camera(60, 7000, () => 90_000);
  const none: CodeSample[] = [];
  const cert = buildCertificate({
    session: "tc1",
    sessions: [session("A", a), session("B", b, { latency_ms: 88 }), session("C", none)],
    scans: [scan("A", a), scan("B", b), scan("C", none)],
    createdAt: new Date("2026-12-02T09:00:00Z"),
    version: "0.1.0",
    plot: "sync-certificate.png",
  });

  it("names each node's latency, what was applied and what is left, and the worst pair", () => {
    assert.ok(createValidators().certificate(cert), "valid against schemas/sync-certificate.schema.json");
    assert.equal(cert.nodes.A!.latency!.p50_ms, 41);
    assert.equal(cert.nodes.A!.frames_decoded, 60);
    assert.equal(cert.nodes.A!.frames_scanned, 65);
    assert.equal(cert.nodes.A!.applied_latency_ms, null);
    assert.equal(cert.nodes.B!.applied_latency_ms, 88);
    assert.equal(cert.nodes.B!.residual_p50_ms, 2);
    assert.equal(cert.nodes.C!.latency, null);
    assert.deepEqual(
      cert.pairs.map((p) => [p.a, p.b]),
      [["A", "B"]],
    );
    assert.equal(cert.alignment.corrected_p99_ms, cert.pairs[0]!.corrected_p99_ms);
    assert.equal(cert.alignment.frame_period_ms, 33.333);
    assert.match(cert.measured, /camera's delay plus the display's/);
    const text = renderCertificate(cert);
    assert.match(text, /A: latency p50 41 ms, p99 42 ms/);
    assert.match(text, /B: .*recorded with 88 ms applied, residual 2 ms/);
    assert.match(text, /C: no time code found in 5 frames \(2 read\)/);
    assert.match(text, /aligned after correction to [\d.]+ ms \(p99, worst pair\); one frame is 33.333 ms/);
  });

  it("plots every node with codes, its figures in the legend", () => {
    const svg = latencyPlotSvg(
      cert,
      new Map([
        ["A", a],
        ["B", b],
        ["C", none],
      ]),
    );
    assert.match(svg, /^<svg [^>]+>/);
    assert.match(svg, /A: latency p50 41 ms, p99 42 ms/);
    assert.match(svg, /B: latency p50 90 ms/);
    assert.doesNotMatch(svg, />C: /);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 120);
    // One node, one code: still a drawable plot.
    const one = latencyPlotSvg(cert, new Map([["A", a.slice(0, 1)]]));
    assert.doesNotMatch(one, /NaN|undefined|Infinity/);
  });

  it("chooses round ticks", () => {
    assert.deepEqual(ticks(0, 20), [0, 5, 10, 15, 20]);
    assert.deepEqual(ticks(35, 98), [40, 60, 80]);
    assert.deepEqual(ticks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe("labx verify's folders (sessionFolders)", () => {
  it("takes session folders, or finds them in a data directory or a fetched tree", () => {
    const root = tempDir();
    for (const d of ["fetched/CAM1/tc1", "fetched/CAM2/tc1", "data/tc1", "data/.labx"])
      mkdirSync(path.join(root, d), { recursive: true });
    for (const d of ["fetched/CAM1/tc1", "fetched/CAM2/tc1", "data/tc1"])
      writeFileSync(path.join(root, d, "manifest.jsonl"), "");
    assert.deepEqual(sessionFolders([path.join(root, "fetched")]), [
      path.join(root, "fetched/CAM1/tc1"),
      path.join(root, "fetched/CAM2/tc1"),
    ]);
    assert.deepEqual(sessionFolders([path.join(root, "data/tc1"), path.join(root, "data")]), [
      path.join(root, "data/tc1"),
    ]);
    assert.throws(() => sessionFolders([path.join(root, "nope")]), /is not a folder/);
    assert.throws(() => sessionFolders([path.join(root, "data/.labx")]), /no session folder/);
  });
});
