import { randomUUID } from "node:crypto";
import type { MqttConnection } from "../mqtt/connection.js";
import { commandTopic } from "../../contract/topics.js";
import { sleep } from "../timers.js";
import type { Clock } from "../clock.js";
import type { Command, NodeState, Reply } from "../../contract/generated/payloads.js";
import type { Validators } from "../../contract/schemas.js";
import { addressedNodes, applyMessage, fleetTopics, type Addressed, type FleetView } from "./fleet-view.js";

/** What sending commands uses of a connection (platform/mqtt/connection.ts). */
export type ControllerLink = Pick<MqttConnection, "onMessage" | "subscribe" | "publish" | "stop">;

/** One line of the answer table: a node's reply, or the reason it has none. */
export interface ResultRow {
  node: string;
  /** replied; offline: known but not online; unknown: never seen on the broker; no_reply: online, silent until the timeout. */
  outcome: "replied" | "offline" | "unknown" | "no_reply";
  ok: boolean;
  code?: string;
  message?: string;
  state?: NodeState;
}

export interface CommandResult {
  id: string;
  target: string;
  command: Command;
  ok: boolean;
  rows: ResultRow[];
}

export interface SendOptions {
  baseTopic: string;
  target: string;
  command: Command;
  timeoutMs: number;
  settleMs: number;
  validators: Validators;
  id?: string;
  clock: Clock;
}

/**
 * Learns the fleet from retained availability and state, sends one command with a fresh id, and
 * collects the replies that carry that id until every addressed online node has answered or the
 * timeout passes. Replies from nodes it did not expect (one that came online meanwhile) are kept.
 */
export async function sendCommand(client: ControllerLink, o: SendOptions): Promise<CommandResult> {
  const id = o.id ?? `labx-ctl-${randomUUID()}`;
  const command = { ...o.command, id } as Command;
  const view: FleetView = new Map();
  const replies = new Map<string, Reply>();
  const { clock } = o;
  let wake: (() => void) | null = null;
  const onMessage = (topic: string, payload: Buffer): void => {
    const m = applyMessage(view, o.baseTopic, topic, payload, o.validators);
    if (m.kind === "reply" && m.reply.id === id && !replies.has(m.node)) {
      replies.set(m.node, m.reply);
      wake?.();
    }
  };
  const off = client.onMessage(onMessage);
  try {
    await client.subscribe(fleetTopics(o.baseTopic));
    await sleep(clock, o.settleMs); // retained availability and state arrive right after the SUBACK
    const addressed = addressedNodes(view, o.target);
    await client.publish(commandTopic(o.baseTopic, o.target), JSON.stringify(command), { qos: 1 });
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      wake?.();
    }, o.timeoutMs);
    const allIn = (): boolean => addressed.online.every((n) => replies.has(n)) && replies.size > 0;
    while (!allIn() && !timedOut) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    clock.clearTimeout(timer);
    const rows = rowsOf(addressed, replies);
    const strict = o.target !== "all";
    const ok = rows.length > 0 && rows.every((r) => r.ok || (!strict && r.outcome === "offline"));
    return { id, target: o.target, command, ok, rows };
  } finally {
    off();
  }
}

function rowsOf(addressed: Addressed, replies: Map<string, Reply>): ResultRow[] {
  const nodes = new Set([...addressed.online, ...addressed.offline, ...addressed.unknown, ...replies.keys()]);
  return [...nodes].sort().map((node): ResultRow => {
    const r = replies.get(node);
    if (!r)
      return addressed.online.includes(node)
        ? { node, outcome: "no_reply", ok: false, message: "no reply before the timeout" }
        : addressed.offline.includes(node)
          ? { node, outcome: "offline", ok: false, message: "offline: the command could not reach it" }
          : {
              node,
              outcome: "unknown",
              ok: false,
              message: "no node or group of this name is known on the broker",
            };
    return r.ok
      ? { node, outcome: "replied", ok: true, state: r.state }
      : { node, outcome: "replied", ok: false, code: r.code, message: r.message };
  });
}
