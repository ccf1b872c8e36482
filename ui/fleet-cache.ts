// What one dashboard login has heard from the broker: the latest retained values of every node (and
// the fleet monitor's figures), the newest events and batches, and the clock history the plot draws.
// Every payload is checked against its schema here, so the page only ever receives valid data.
import type { Validators } from "../contract/schemas.js";
import { everyNode, fleetTopic, type NodeLeaf } from "../contract/topics.js";
import { decodeNodeMessage } from "../contract/node-message.js";

/** One message for the page: a node's leaf (or the fleet's clock figures), when it arrived, its value. */
export interface UiMessage {
  leaf: Exclude<NodeLeaf, "reply"> | "fleet-clock";
  node: string;
  /** Arrival at the dashboard, ms since the epoch. */
  at: number;
  /** The payload (a preview's metadata); null: a retained value cleared. */
  payload: unknown;
}

const LATEST: ReadonlySet<string> = new Set(["availability", "state", "clock", "preview", "fleet-clock"]);

export interface FleetCacheLimits {
  events: number;
  batches: number;
  /** Clock readings kept per node for the plot. */
  clockPoints: number;
  /** Nodes remembered; the one heard from least recently is forgotten first. */
  nodes: number;
}

export const DEFAULT_LIMITS: FleetCacheLimits = { events: 200, batches: 200, clockPoints: 720, nodes: 256 };

export function dashboardTopics(base: string): string[] {
  return [
    ...(["availability", "state", "clock", "batch", "event", "preview"] as const).map((l) =>
      everyNode(base, l),
    ),
    fleetTopic(base, "clock"),
  ];
}

export class FleetCache {
  private readonly latest = new Map<string, UiMessage>();
  private readonly previews = new Map<string, Buffer>();
  private readonly events: UiMessage[] = [];
  private readonly batches: UiMessage[] = [];
  private readonly clocks = new Map<string, UiMessage[]>();
  /** Every node heard of, in the order last heard from (a Map keeps insertion order). */
  private readonly heard = new Map<string, true>();

  constructor(
    private readonly base: string,
    private readonly validators: Validators,
    private readonly limits: FleetCacheLimits = DEFAULT_LIMITS,
  ) {}

  /** Folds one MQTT message in; returns what the page should hear, or null (foreign, invalid). */
  apply(topic: string, payload: Buffer, now: number): UiMessage | null {
    const m = this.parse(topic, payload, now);
    if (!m) return null;
    this.hear(m.node);
    const key = `${m.node}/${m.leaf}`;
    if (LATEST.has(m.leaf)) {
      if (m.payload === null) this.latest.delete(key);
      else this.latest.set(key, m);
    }
    if (m.leaf === "preview") {
      if (m.payload === null) this.previews.delete(m.node);
      else this.previews.set(m.node, payload);
    }
    if (m.leaf === "event") push(this.events, m, this.limits.events);
    if (m.leaf === "batch") push(this.batches, m, this.limits.batches);
    if (m.leaf === "clock" && m.payload !== null) {
      const list = this.clocks.get(m.node) ?? [];
      this.clocks.set(m.node, list);
      push(list, m, this.limits.clockPoints);
    }
    return m;
  }

  /** Marks `node` heard from; past the limit, the node heard from least recently is forgotten whole. */
  private hear(node: string): void {
    this.heard.delete(node);
    this.heard.set(node, true);
    if (this.heard.size <= this.limits.nodes) return;
    const gone = this.heard.keys().next().value!;
    this.heard.delete(gone);
    for (const key of [...this.latest.keys()])
      if (this.latest.get(key)!.node === gone) this.latest.delete(key);
    this.previews.delete(gone);
    this.clocks.delete(gone);
  }

  /** Everything a page that just connected needs, in arrival order. */
  replay(): UiMessage[] {
    const history = [...this.events, ...this.batches, ...[...this.clocks.values()].flat()];
    const latest = [...this.latest.values()].filter((m) => m.leaf !== "clock");
    return [...history, ...latest].sort((a, b) => a.at - b.at);
  }

  preview(node: string): Buffer | undefined {
    return this.previews.get(node);
  }

  private parse(topic: string, payload: Buffer, at: number): UiMessage | null {
    if (topic === fleetTopic(this.base, "clock")) {
      const value = json(payload);
      if (payload.length === 0) return { leaf: "fleet-clock", node: "fleet", at, payload: null };
      return this.validators.fleetClock(value)
        ? { leaf: "fleet-clock", node: "fleet", at, payload: value }
        : null;
    }
    const m = decodeNodeMessage(this.base, topic, payload, this.validators);
    if (!m || m.leaf === "reply") return null;
    return { leaf: m.leaf, node: m.node, at, payload: m.value };
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function json(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
}
