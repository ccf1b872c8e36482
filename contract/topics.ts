// Pure topic builders; names are validated elsewhere, so they cannot carry '/', '+' or '#'.
import { BROADCAST } from "./names.js";

export type NodeLeaf = "reply" | "availability" | "state" | "clock" | "batch" | "event";

export function nodeTopic(base: string, node: string, leaf: NodeLeaf): string {
  return `${base}/${node}/${leaf}`;
}

/** The command topics a node listens on: its id, each of its groups, and all. */
export function commandTopics(base: string, node: string, groups: readonly string[]): string[] {
  return [node, ...groups, BROADCAST].map((target) => `${base}/${target}/cmd`);
}
