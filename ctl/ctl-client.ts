import type { Logger } from "pino";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";
import { MqttConnection } from "../platform/mqtt/connection.js";
import { realTimers, type Timers } from "../platform/timers.js";

export class BrokerUnreachableError extends Error {}

/** What the controller's commands use of their connection (platform/mqtt/connection.ts). */
export type ControllerLink = Pick<MqttConnection, "onMessage" | "subscribe" | "publish" | "stop">;

/**
 * A controller's connection: the platform's one MQTT connect (MQTT 5, or 3.1.1 where the broker
 * refuses 5), as a visitor: no will, no availability, a clean session. Waits for the broker up to
 * `timeoutMs`, retrying a refused socket; a CONNACK refusal (credentials, authorization) is final.
 */
export async function connectController(
  url: string,
  security: ClientSecurity,
  timeoutMs: number,
  log: Logger,
  timers: Timers = realTimers,
): Promise<MqttConnection> {
  const connection = new MqttConnection({
    url,
    clientId: `labx-ctl-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    subscriptions: [],
    log,
    reconnectPeriodMs: 1000,
    security,
    workOffline: false,
  });
  let timer: unknown;
  const timedOut = new Promise<"timeout">((r) => (timer = timers.setTimeout(() => r("timeout"), timeoutMs)));
  try {
    const outcome = await Promise.race([connection.start().then(() => "connected" as const), timedOut]);
    if (outcome === "timeout")
      throw new BrokerUnreachableError(`no answer from ${url} within ${timeoutMs / 1000} s`);
    return connection;
  } catch (err) {
    await connection.stop().catch(() => undefined);
    if (err instanceof BrokerUnreachableError) throw err;
    // A refusal: the broker answered no.
    throw Object.assign(new BrokerUnreachableError((err as Error).message), {
      code: (err as { code?: unknown }).code,
    });
  } finally {
    timers.clearTimeout(timer);
  }
}
