import type { Logger } from "pino";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";
import type { MqttConnection } from "../platform/mqtt/connection.js";
import { connectVisitor } from "../platform/mqtt/visitor.js";
import type { Clock } from "../platform/clock.js";

export { BrokerUnreachableError } from "../platform/mqtt/visitor.js";

export type { ControllerLink } from "../platform/control/send-command.js";

/** A controller's connection: a visitor's (platform/mqtt/visitor.ts), under a name of its own. */
export function connectController(
  url: string,
  security: ClientSecurity,
  timeoutMs: number,
  log: Logger,
  clock: Clock,
): Promise<MqttConnection> {
  const clientId = `labx-ctl-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  return connectVisitor({ url, clientId, security, timeoutMs, log, clock });
}
