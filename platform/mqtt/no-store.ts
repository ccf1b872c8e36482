import { Readable } from "node:stream";
import type { IStore, Packet } from "mqtt";

/**
 * MQTT.js's outgoing store, turned off: the client keeps no copy of a QoS 1 message once it is
 * written, so it never resends one after a reconnect, and nothing published while offline is
 * queued. Resending is the outbox's alone (outbox.ts): one owner, no duplicate per reconnect, and no
 * stale retained state replayed when the broker returns.
 */
export class NoStore implements IStore {
  put(_packet: Packet, cb: (err?: Error) => void): this {
    cb();
    return this;
  }

  /** Nothing to resend: a stream that ends at once (node's Readable has what MQTT.js reads). */
  createStream(): ReturnType<IStore["createStream"]> {
    return Readable.from([], { objectMode: true }) as unknown as ReturnType<IStore["createStream"]>;
  }

  del(packet: Pick<Packet, "messageId">, cb: (err?: Error, packet?: Packet) => void): this {
    // An acknowledgement: the message is done (there was no copy to delete).
    cb(undefined, packet as Packet);
    return this;
  }

  get(_packet: Pick<Packet, "messageId">, cb: (err?: Error, packet?: Packet) => void): this {
    cb(new Error("no stored packets"));
    return this;
  }

  close(cb: (err?: Error) => void): void {
    cb();
  }
}
