import type { Logger } from "pino";
import type { ClientSecurity } from "./client-security.js";
import { MqttConnection } from "./connection.js";
import type { Clock } from "../clock.js";

export class BrokerUnreachableError extends Error {}

/**
 * A visitor's connection (a controller, `labx doctor`): the one MQTT connect (MQTT 5, or 3.1.1 where
 * the broker refuses 5) with no will, no availability and a clean session. Waits for the broker up
 * to `timeoutMs`, retrying a refused socket; a CONNACK refusal (credentials, authorization) is final.
 * Either way a BrokerUnreachableError says why (with the refusal's `code`).
 */
export async function connectVisitor(o: {
  url: string;
  clientId: string;
  security: ClientSecurity;
  timeoutMs: number;
  log: Logger;
  clock: Clock;
}): Promise<MqttConnection> {
  const { clock } = o;
  const connection = new MqttConnection({
    url: o.url,
    clientId: o.clientId,
    subscriptions: [],
    log: o.log,
    reconnectPeriodMs: 1000,
    security: o.security,
    workOffline: false,
    clock: o.clock,
  });
  let timer: unknown;
  const timedOut = new Promise<"timeout">((r) => (timer = clock.setTimeout(() => r("timeout"), o.timeoutMs)));
  try {
    const outcome = await Promise.race([connection.start().then(() => "connected" as const), timedOut]);
    if (outcome === "timeout")
      throw new BrokerUnreachableError(`no answer from ${o.url} within ${o.timeoutMs / 1000} s`);
    return connection;
  } catch (err) {
    await connection.stop().catch(() => undefined);
    if (err instanceof BrokerUnreachableError) throw err;
    throw Object.assign(new BrokerUnreachableError((err as Error).message), {
      code: (err as { code?: unknown }).code,
    });
  } finally {
    clock.clearTimeout(timer);
  }
}
