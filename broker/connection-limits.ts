// What one connection may cost the embedded broker: how many are open at once and how often one address
// may connect (the largest packet is aedes' own maximumPacketSize: embedded-broker.ts). Every listener
// (TCP, TLS, WebSocket) admits through one.
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { isLoopbackAddress, RateLimiter } from "../platform/net/rate-limit.js";

export interface BrokerLimits {
  /** Connections open at once, over every listener. */
  maxConnections: number;
  /** The largest MQTT packet (and WebSocket message) taken, in bytes. */
  maxPacketBytes: number;
  /** Connects one address may make at once, then `connectsPerSecond`. Loopback is not limited. */
  connectBurst: number;
  connectsPerSecond: number;
  /** The longest keepalive a client may keep (s); 0: none (aedes' keepaliveLimit, as mosquitto's max_keepalive). */
  maxKeepaliveS: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxConnections: 4096,
  maxPacketBytes: 2 * 1024 * 1024,
  connectBurst: 30,
  connectsPerSecond: 5,
  maxKeepaliveS: 0,
};

export class ConnectionLimits {
  private readonly open = new Set<Duplex>();
  private readonly rate: RateLimiter;

  constructor(
    private readonly limits: BrokerLimits,
    monotonicMs: () => number,
    private readonly log: Logger,
  ) {
    this.rate = new RateLimiter({
      burst: limits.connectBurst,
      perSecond: limits.connectsPerSecond,
      maxKeys: 10_000,
      monotonicMs,
    });
  }

  /**
   * Admits a new connection: false (and the stream destroyed) when over a limit. An admitted stream is
   * counted until it closes.
   */
  admit(stream: Duplex, address: string | undefined): boolean {
    if (this.open.size >= this.limits.maxConnections) {
      this.log.warn({ address, open: this.open.size }, "connection refused: too many connections");
      stream.destroy();
      return false;
    }
    if (!isLoopbackAddress(address) && !this.rate.take(address ?? "")) {
      this.log.warn({ address }, "connection refused: this address connects too often");
      stream.destroy();
      return false;
    }
    this.open.add(stream);
    stream.once("close", () => this.open.delete(stream));
    return true;
  }

  /** Every open connection, closed (the broker's stop). */
  destroyAll(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}
