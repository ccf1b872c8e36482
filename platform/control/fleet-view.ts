import type { BatchReady, ClockStatus, NodeState, Reply } from "../../contract/generated/payloads.js";
import { everyNode, type NodeLeaf } from "../../contract/topics.js";
import { decodeNodeMessage } from "../../contract/node-message.js";
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
  const m = decodeNodeMessage(base, topic, payload, validators);
  if (!m) return { kind: "ignored" };
  const { node } = m;
  if (m.leaf === "reply") return { kind: "reply", node, reply: m.value };
  if (m.leaf === "availability") entry(view, node).availability = m.value;
  else if (m.leaf === "state" && m.value) entry(view, node).state = m.value;
  else if (m.leaf === "clock" && m.value) entry(view, node).clock = m.value;
  else if (m.leaf === "batch") entry(view, node).lastBatch = m.value;
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
