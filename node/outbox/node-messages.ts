import type { IPublishPacket } from "mqtt";
import type { Logger } from "pino";
import type { Reply } from "../../contract/generated/payloads.js";
import { OfflineError } from "../../platform/mqtt/connection.js";
import type { Redact } from "../../platform/secrets.js";
import type { Outbox } from "./outbox.js";

export interface NodeMessagesDeps {
  outbox: Pick<Outbox, "add">;
  /** The connection's publish (platform/mqtt/connection.ts): rejects at once while offline. */
  publish: (topic: string, payload: string, options: { qos: 1; retain: boolean }) => Promise<void>;
  /** The last wall before MQTT and the journal: no configured secret leaves in a payload. */
  redact: Redact;
  log: Logger;
}

/**
 * How the node's messages leave, in two kinds. Owed ones (batches, events, replies) are journaled,
 * then delivered at least once by the outbox. Latest-value ones (state, clock) are published when
 * online and dropped when not: they are sent afresh on every connect. Secrets are stripped from both.
 */
export class NodeMessages {
  constructor(private readonly d: NodeMessagesDeps) {}

  /** Journaled, then delivered at least once; resolves once journaled. */
  owe(topic: string, payload: string, correlation?: Buffer): Promise<void> {
    return this.d.outbox.add({
      topic,
      payload: this.d.redact(payload),
      ...(correlation ? { correlation } : {}),
    });
  }

  /** owe(), for a caller that does not wait: a journal failure is logged. */
  oweJson(topic: string, payload: object): void {
    this.owe(topic, JSON.stringify(payload)).catch((err: unknown) => {
      this.d.log.error({ err, topic }, "could not journal a message");
    });
  }

  /** A reply on the node's reply topic, and on the MQTT 5 response topic when the command gave one. */
  async reply(replyTopic: string, reply: Reply, packet: IPublishPacket): Promise<void> {
    const payload = JSON.stringify(reply);
    const sends = [this.owe(replyTopic, payload)];
    const props = packet.properties;
    if (props?.responseTopic) sends.push(this.owe(props.responseTopic, payload, props.correlationData));
    await Promise.all(sends);
  }

  /** A retained latest value, now or never. */
  latest(topic: string, payload: object): void {
    this.d
      .publish(topic, this.d.redact(JSON.stringify(payload)), { qos: 1, retain: true })
      .catch((err: unknown) => {
        // Offline, a latest-value message is dropped by design (it is sent afresh on connect).
        if (err instanceof OfflineError) this.d.log.debug({ topic }, "offline: not published");
        else this.d.log.warn({ err, topic }, "publish failed");
      });
  }
}
