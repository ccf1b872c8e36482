import type { BatchReady, ClockStatus, NodeState, Reply } from "../../contract/generated/payloads.js";
import { everyNode, parseNodeTopic, type NodeLeaf } from "../../contract/topics.js";
import type { Validators } from "../../contract/schemas.js";

/** What a controller knows of one node, from the retained and live messages it has seen. */
export interface NodeView {
  node: string;
  availability: "online" | "offline" | null;
  state: NodeState | null;
  clock: ClockStatus | null;
  lastBatch: BatchReady | null;
}

export type FleetView = Map<string, NodeView>;

export type FleetMessage =
  { kind: "view"; node: string } | { kind: "reply"; node: string; reply: Reply } | { kind: "ignored" };

/** The topics a controller subscribes to. */
export function fleetTopics(base: string): string[] {
  return (["availability", "state", "clock", "batch", "reply"] as NodeLeaf[]).map((leaf) =>
    everyNode(base, leaf),
  );
}

function entry(view: FleetView, node: string): NodeView {
  let v = view.get(node);
  if (!v) {
    v = { node, availability: null, state: null, clock: null, lastBatch: null };
    view.set(node, v);
  }
  return v;
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Folds one message into the view. Payloads that fail their schema are ignored, so a foreign
 * publisher on the same broker cannot make the table lie; an empty retained payload clears a field.
 */
export function applyMessage(
  view: FleetView,
  base: string,
  topic: string,
  payload: Buffer,
  validators: Validators,
): FleetMessage {
  const parsed = parseNodeTopic(base, topic);
  if (!parsed) return { kind: "ignored" };
  const { node, leaf } = parsed;
  if (leaf === "availability") {
    const text = payload.toString("utf8");
    if (text !== "online" && text !== "offline" && text !== "") return { kind: "ignored" };
    entry(view, node).availability = text === "" ? null : text;
    return { kind: "view", node };
  }
  const value = parse(payload);
  if (leaf === "reply")
    return validators.reply(value) ? { kind: "reply", node, reply: value } : { kind: "ignored" };
  if (leaf === "state" && validators.state(value)) entry(view, node).state = value;
  else if (leaf === "clock" && validators.clock(value)) entry(view, node).clock = value;
  else if (leaf === "batch" && validators.batch(value)) entry(view, node).lastBatch = value;
  else return { kind: "ignored" };
  return { kind: "view", node };
}

export interface Addressed {
  /** Online nodes the command reaches: each should answer. */
  online: string[];
  /** Known nodes the target names that are offline: they cannot answer. */
  offline: string[];
  /** The target itself when no node on the broker has that id or group. */
  unknown: string[];
}

/**
 * The nodes a command to `target` reaches: those whose id is the target, that list it among their
 * groups (from their retained state), or every node for `all`. A target that matches no known node
 * is taken for the id of a node the broker has never seen, which is then reported as not answering.
 */
export function addressedNodes(view: FleetView, target: string): Addressed {
  const hit = [...view.values()].filter(
    (v) => target === "all" || v.node === target || (v.state?.groups ?? []).includes(target),
  );
  const ids = (availability: NodeView["availability"]): string[] =>
    hit
      .filter((v) => (availability === "online" ? v.availability === "online" : v.availability !== "online"))
      .map((v) => v.node)
      .sort();
  return {
    online: ids("online"),
    offline: ids("offline"),
    unknown: target !== "all" && hit.length === 0 ? [target] : [],
  };
}
