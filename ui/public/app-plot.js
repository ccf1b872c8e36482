// The fleet clock plot (uPlot): each node's offset from its time source, the largest difference
// between two nodes, and the threshold a lab accepts, over time. What the old collector's Tk plot
// showed, from the nodes' own chrony readings (labx/<id>/clock).

const COLORS = ["#1f5fbf", "#1a7f37", "#b35c00", "#8e44ad", "#0097a7", "#c2185b", "#5d4037", "#546e7a"];
/** A reading older than this no longer counts for the pairwise figure (s). */
const FRESH_S = 60;

export class ClockPlot {
  constructor(container, thresholdMs) {
    this.container = container;
    this.thresholdUs = thresholdMs * 1000;
    /** node → [[t_s, offset_us], …] in time order. */
    this.series = new Map();
    /** [[t_s, max pairwise µs]] */
    this.pairwise = [];
    this.plot = null;
    this.dirty = false;
    this.points = 0;
  }

  /** One clock reading (schemas/clock.schema.json). */
  add(node, clock) {
    if (typeof clock.offset_s !== "number") return;
    const t = Date.parse(clock.checked_at) / 1000;
    const list = this.series.get(node) ?? [];
    if (!this.series.has(node)) this.series.set(node, list);
    if (list.length && list[list.length - 1][0] >= t) return;
    list.push([t, clock.offset_s * 1e6]);
    if (list.length > 720) list.shift();
    const latest = [...this.series.values()]
      .map((l) => l[l.length - 1])
      .filter((p) => p && t - p[0] <= FRESH_S)
      .map((p) => p[1]);
    if (latest.length >= 2) {
      this.pairwise.push([t, Math.max(...latest) - Math.min(...latest)]);
      if (this.pairwise.length > 2000) this.pairwise.shift();
    }
    this.points++;
    this.dirty = true;
  }

  /** The latest max pairwise offset (µs), or null with fewer than two nodes. */
  get maxPairwiseUs() {
    return this.pairwise.length ? this.pairwise[this.pairwise.length - 1][1] : null;
  }

  data() {
    const nodes = [...this.series.keys()].sort();
    const xs = [
      ...new Set([
        ...nodes.flatMap((n) => this.series.get(n).map((p) => p[0])),
        ...this.pairwise.map((p) => p[0]),
      ]),
    ].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const column = (points) => {
      const col = new Array(xs.length).fill(null);
      for (const [x, y] of points) col[index.get(x)] = y;
      return col;
    };
    return {
      nodes,
      data: [
        xs,
        ...nodes.map((n) => column(this.series.get(n))),
        column(this.pairwise),
        xs.map(() => this.thresholdUs),
      ],
    };
  }

  /** Redraws when something changed (called once a second). */
  render() {
    if (!this.dirty || typeof uPlot === "undefined") return;
    this.dirty = false;
    const { nodes, data } = this.data();
    const key = nodes.join(",");
    if (!this.plot || this.key !== key) {
      this.plot?.destroy();
      this.key = key;
      const width = Math.max(280, this.container.clientWidth - 4);
      this.plot = new uPlot(
        {
          width,
          height: 260,
          scales: { x: { time: true }, y: { range: (_u, min, max) => this.yRange(min, max) } },
          axes: [{}, { label: "offset (µs)", size: 60 }],
          series: [
            {},
            ...nodes.map((n, i) => ({
              label: n,
              stroke: COLORS[i % COLORS.length],
              width: 1.5,
              spanGaps: true,
              points: { show: true, size: 4 },
            })),
            { label: "max pairwise", stroke: "#c62828", width: 2, spanGaps: true },
            { label: "threshold", stroke: "#c62828", dash: [6, 6], width: 1, points: { show: false } },
          ],
        },
        data,
        this.container,
      );
      this.container.setAttribute("data-points", String(this.points));
      return;
    }
    this.plot.setData(data);
    this.container.setAttribute("data-points", String(this.points));
  }

  /**
   * The offsets decide the scale: the threshold is shown when it is within reach (a threshold of
   * 1 ms over offsets of a few µs would flatten every line to zero), else named in the summary.
   */
  yRange() {
    const values = [...this.series.values()]
      .flat()
      .map((p) => p[1])
      .concat(this.pairwise.map((p) => p[1]));
    if (!values.length) return [-1, 1];
    let lo = Math.min(0, ...values);
    let hi = Math.max(0, ...values);
    const span = Math.max(hi - lo, 1);
    if (this.thresholdUs <= hi + 3 * span) hi = Math.max(hi, this.thresholdUs);
    const pad = (hi - lo) * 0.08 || 1;
    return [lo - pad, hi + pad];
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(280, this.container.clientWidth - 4), height: 260 });
  }
}
