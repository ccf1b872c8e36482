// Pure: who may connect to the embedded broker, and as whom. Rules for what each may then publish and
// subscribe are acl.ts's; this decides the identity those rules are applied to.
import { isName, isReserved } from "../contract/names.js";
import { isLoopbackAddress } from "../platform/net/rate-limit.js";
import type { AclUser } from "./acl.js";
import type { AuthUser } from "./auth-file.js";

/**
 * Anonymous clients (no user name): `never` with an --auth-file; `loopback` by default (a process on
 * this machine, as mosquitto 2 does until configured); `anywhere` with --allow-anonymous.
 */
export type AnonymousAccess = "never" | "loopback" | "anywhere";

export function anonymousAllowed(access: AnonymousAccess, address: string | undefined): boolean {
  return access === "anywhere" || (access === "loopback" && isLoopbackAddress(address));
}

/** A node's MQTT client id is labx-<node id> (node/labx-node.ts): the join login binds to it. */
export const NODE_CLIENT_PREFIX = "labx-";

/** The node id a client id stands for, or null when it names no node a join login may be. */
export function joinNodeId(clientId: string): string | null {
  if (!clientId.startsWith(NODE_CLIENT_PREFIX)) return null;
  const id = clientId.slice(NODE_CLIENT_PREFIX.length);
  return isName(id) && !isReserved(id) ? id : null;
}

/**
 * The identity a logged-in client gets: its user, or, for the shared join login, the node its client id
 * names (so one join password serves every node, and each node may speak only as itself). Null: a join
 * login whose client id names no node.
 */
export function clientIdentity(user: Readonly<AuthUser>, clientId: string): Readonly<AclUser> | null {
  if (user.role !== "join") return user;
  const node = joinNodeId(clientId);
  return node === null ? null : Object.freeze({ username: user.username, role: "join", node });
}
