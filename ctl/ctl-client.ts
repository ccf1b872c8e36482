import mqtt, { type MqttClient } from "mqtt";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";

export class BrokerUnreachableError extends Error {}

/**
 * A controller's connection: MQTT 5, or 3.1.1 where the broker refuses 5 (aedes). No will and a
 * clean session: a controller is a visitor, not a device.
 */
export async function connectController(
  url: string,
  security: ClientSecurity,
  timeoutMs: number,
): Promise<MqttClient> {
  const attempt = (protocolVersion: 4 | 5): Promise<MqttClient> => {
    const client = mqtt.connect(url, {
      protocolVersion,
      clientId: `labx-ctl-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: timeoutMs,
      ...security,
    });
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        client.removeAllListeners("connect");
        client.end(true);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new BrokerUnreachableError(`no answer from ${url} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      client.once("connect", () => {
        clearTimeout(timer);
        client.removeListener("error", onError);
        resolve(client);
      });
      const onError = (err: Error & { code?: unknown }): void => {
        // A CONNACK refusal is final; a refused or reset socket is retried until the timeout.
        if (typeof err.code === "number")
          fail(Object.assign(new BrokerUnreachableError(err.message), { code: err.code }));
      };
      client.on("error", onError);
    });
  };
  try {
    return await attempt(5);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 1 || code === 132) return attempt(4);
    throw err;
  }
}
