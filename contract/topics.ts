// Every labx topic, built and parsed here. Names are validated elsewhere (names.ts), so they cannot
// carry '/', '+' or '#'.
import { BROADCAST, FLEET, isName, isReserved } from "./names.js";

/** What a node publishes under <base>/<node>/…, in one list (the broker's ACL grants exactly these). */
export const NODE_LEAVES = ["reply", "availability", "state", "clock", "batch", "event", "preview"] as const;
export type NodeLeaf = (typeof NODE_LEAVES)[number];

/** What the fleet monitor publishes under <base>/fleet/…. */
export type FleetLeaf = "clock" | "availability";

export function nodeTopic(base: string, node: string, leaf: NodeLeaf): string {
  return `${base}/${node}/${leaf}`;
}

/** A leaf of every node: <base>/+/<leaf>. */
export function everyNode(base: string, leaf: NodeLeaf): string {
  return `${base}/+/${leaf}`;
}

/** Where commands to a node id, a group or `all` go. */
export function commandTopic(base: string, target: string): string {
  return `${base}/${target}/cmd`;
}

/** Every command topic: <base>/+/cmd. */
export function everyCommandTopic(base: string): string {
  return `${base}/+/cmd`;
}

/** The command topics a node listens on: its id, each of its groups, and all. */
export function commandTopics(base: string, node: string, groups: readonly string[]): string[] {
  return [node, ...groups, BROADCAST].map((target) => commandTopic(base, target));
}

export function fleetTopic(base: string, leaf: FleetLeaf): string {
  return `${base}/${FLEET}/${leaf}`;
}

/** Everything the fleet monitor publishes: <base>/fleet/#. */
export function everyFleetTopic(base: string): string {
  return `${base}/${FLEET}/#`;
}

/**
 * Home Assistant's MQTT device discovery of a node: <prefix>/device/<node>/config. `prefix` is HA's
 * discovery prefix (`homeassistant` by default), or "+" in a filter for any prefix.
 */
export function haDeviceConfigTopic(prefix: string, node: string): string {
  return `${prefix}/device/${node}/config`;
}

/** Home Assistant's birth and last will (`online`/`offline`): <prefix>/status ("+": any prefix). */
export function haStatusTopic(prefix: string): string {
  return `${prefix}/status`;
}

/** Whether a topic is a node's batch announcement (<base>/<node>/batch). */
export function isBatchTopic(base: string, topic: string): boolean {
  return parseNodeTopic(base, topic)?.leaf === "batch";
}

/**
 * A node's topic taken apart: <base>/<node>/<leaf> with a valid, unreserved node id and a known
 * leaf; anything else (another base, the fleet monitor, a foreign publisher's topic) is null.
 */
export function parseNodeTopic(base: string, topic: string): { node: string; leaf: NodeLeaf } | null {
  const parts = topic.split("/");
  if (parts.length !== 3 || parts[0] !== base) return null;
  const [, node, leaf] = parts as [string, string, string];
  if (!isName(node) || isReserved(node) || !(NODE_LEAVES as readonly string[]).includes(leaf)) return null;
  return { node, leaf: leaf as NodeLeaf };
}
