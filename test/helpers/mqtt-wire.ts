import { connect, type Socket } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";

/**
 * An MQTT client that acknowledges nothing by itself: the test writes every packet and reads each the
 * broker sends, in order (MQTT.js answers PUBLISH and PUBREC on its own, so it cannot show flow control).
 */
export interface WireClient {
  send(packet: Packet): void;
  /** Bytes as they are, for a packet mqtt-packet will not encode (one the specification forbids). */
  sendRaw(bytes: Buffer): void;
  /** The next packet from the broker, or null when none came within `ms` or the connection closed. */
  next(ms?: number): Promise<Packet | null>;
  readonly closed: boolean;
  close(): void;
}

export function wireClient(port: number, protocolVersion: 4 | 5 = 5): Promise<WireClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    const parser = mqttPacket.parser({ protocolVersion });
    const queue: Packet[] = [];
    const waiters: (() => void)[] = [];
    let closed = false;
    const wake = () => waiters.splice(0).forEach((w) => w());
    parser.on("packet", (p) => {
      queue.push(p);
      wake();
    });
    socket.on("data", (d) => parser.parse(d));
    socket.on("close", () => {
      closed = true;
      wake();
    });
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        send: (packet) => socket.write(mqttPacket.generate(packet, { protocolVersion })),
        sendRaw: (bytes) => socket.write(bytes),
        next: async (ms = 2000) => {
          if (!queue.length && !closed) {
            await new Promise<void>((r) => {
              const timer = setTimeout(r, ms);
              waiters.push(() => {
                clearTimeout(timer);
                r();
              });
            });
          }
          return queue.shift() ?? null;
        },
        get closed() {
          return closed;
        },
        close: () => socket.destroy(),
      }),
    );
  });
}
