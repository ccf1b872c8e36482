// Pure: who may publish and subscribe to what on the embedded broker. Topic filters follow MQTT:
// '+' one level, '#' the rest (at the end only); '$'-topics are never matched by a leading wildcard.

import {
  commandTopics,
  everyCommandTopic,
  everyFleetTopic,
  haDeviceConfigTopic,
  haStatusTopic,
  NODE_LEAVES,
  nodeTopic,
} from "../contract/topics.js";

/** join: the lab's shared node login; each client speaks as the node its client id names (access.ts). */
export type Role = "node" | "join" | "controller" | "monitor" | "admin";

export interface AclUser {
  username: string;
  role: Role;
  /** role node: the node id it is (defaults to the username) and the groups it answers to. */
  node?: string;
  groups?: readonly string[];
}

/** Topics (filters) the user may publish to. */
export function publishPatterns(user: AclUser, base: string): string[] {
  switch (user.role) {
    case "node":
    case "join": {
      const id = user.node ?? user.username;
      // Its own Home Assistant device discovery, under whatever discovery prefix HA uses.
      return [...NODE_LEAVES.map((leaf) => nodeTopic(base, id, leaf)), haDeviceConfigTopic("+", id)];
    }
    case "controller":
      // Commands, and Home Assistant's birth message when HA connects as a controller.
      return [everyCommandTopic(base), haStatusTopic("+")];
    case "monitor":
      return [everyFleetTopic(base)];
    case "admin":
      return ["#"];
  }
}

/** Filters the user may subscribe to (or any narrower filter). */
export function subscribePatterns(user: AclUser, base: string): string[] {
  // A joined node answers to groups the broker cannot know: every command topic, read-only.
  if (user.role === "join") return [everyCommandTopic(base), haStatusTopic("+")];
  if (user.role !== "node") return ["#"];
  const id = user.node ?? user.username;
  return [...commandTopics(base, id, user.groups ?? []), haStatusTopic("+")];
}

export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split("/"), topic);
}

/** True when every topic `filter` can match is also matched by `pattern`. */
export function filterCovers(pattern: string, filter: string): boolean {
  const p = pattern.split("/");
  const f = filter.split("/");
  if (filter.startsWith("$") !== pattern.startsWith("$") && (p[0] === "+" || p[0] === "#")) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "#") return true;
    if (i >= f.length) return false;
    if (f[i] === "#") return false; // the filter reaches deeper than the pattern allows
    if (p[i] === "+") continue;
    if (f[i] !== p[i]) return false; // includes a '+' in the filter where the pattern is literal
  }
  return p.length === f.length;
}

/** Each user's patterns, built once per user and base topic (every publish is checked against them). */
const compiled = new WeakMap<AclUser, { base: string; publish: string[][]; subscribe: string[] }>();

function rulesOf(user: AclUser, base: string): { publish: string[][]; subscribe: string[] } {
  const hit = compiled.get(user);
  if (hit && hit.base === base) return hit;
  const rules = {
    base,
    publish: publishPatterns(user, base).map((p) => p.split("/")),
    subscribe: subscribePatterns(user, base),
  };
  compiled.set(user, rules);
  return rules;
}

/** topicMatches over a filter already split into its levels. */
function levelsMatch(f: readonly string[], topic: string): boolean {
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export function mayPublish(user: AclUser, topic: string, base: string): boolean {
  return rulesOf(user, base).publish.some((p) => levelsMatch(p, topic));
}

export function maySubscribe(user: AclUser, filter: string, base: string): boolean {
  return rulesOf(user, base).subscribe.some((p) => filterCovers(p, filter));
}
