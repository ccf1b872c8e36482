// Pure: one message a node published, decoded once for every reader of the fleet (ctl, the dashboard,
// the fleet monitor): its topic taken apart, its payload parsed and checked against the leaf's schema.
// A foreign publisher's message, invalid JSON or a payload that fails its schema is null: no reader can
// be made to show it.
import type {
  BatchReady,
  ClockStatus,
  NodeEvent,
  NodeState,
  PreviewMeta,
  Reply,
} from "./generated/payloads.js";
import { readPreviewMeta } from "./preview.js";
import type { Validators } from "./schemas.js";
import { parseNodeTopic } from "./topics.js";

/** What a node's leaf carries; null: an empty retained payload, the value cleared. */
export type NodeMessage = { node: string } & (
  | { leaf: "availability"; value: "online" | "offline" | null }
  | { leaf: "state"; value: NodeState | null }
  | { leaf: "clock"; value: ClockStatus | null }
  | { leaf: "preview"; value: PreviewMeta | null }
  | { leaf: "batch"; value: BatchReady }
  | { leaf: "event"; value: NodeEvent }
  | { leaf: "reply"; value: Reply }
);

/** The leaves kept as retained latest values: an empty payload clears them. */
export const RETAINED_LEAVES: ReadonlySet<string> = new Set(["availability", "state", "clock", "preview"]);

function json(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
}

export function decodeNodeMessage(
  base: string,
  topic: string,
  payload: Buffer,
  validators: Validators,
): NodeMessage | null {
  const parsed = parseNodeTopic(base, topic);
  if (!parsed) return null;
  const { node, leaf } = parsed;
  if (payload.length === 0)
    return RETAINED_LEAVES.has(leaf) ? ({ node, leaf, value: null } as NodeMessage) : null;
  switch (leaf) {
    case "availability": {
      const text = payload.toString("utf8");
      return text === "online" || text === "offline" ? { node, leaf, value: text } : null;
    }
    case "preview": {
      // A JPEG, its metadata in a comment segment (preview.ts): taken where it says it was.
      const meta = readPreviewMeta(payload);
      return validators.preview(meta) && meta.node === node ? { node, leaf, value: meta } : null;
    }
    default: {
      // state, clock, batch, event, reply: JSON, checked against the schema of the same name.
      const v = json(payload);
      return validators[leaf](v) ? ({ node, leaf, value: v } as NodeMessage) : null;
    }
  }
}
