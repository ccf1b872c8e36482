import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on loopback between a client and a server (a broker, a store), with the faults a lab's
 * network has: `freeze()` silently drops what the client sends (its messages stay unacknowledged, in
 * flight), `down()` cuts every connection and refuses new ones, `up()` lets them in again,
 * `throttle()` slows the uplink, `corruptOnce()` flips a byte of a request body.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;
  private bytesPerSecond = 0;
  private corruptAtLeast = 0;
  private refusing = false;
  port = 0;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on listenPort (a free one when absent). */
  static async start(targetPort: number, listenPort = 0): Promise<TcpProxy> {
    const p = new TcpProxy(targetPort);
    await new Promise<void>((r) => p.server.listen(listenPort, "127.0.0.1", r));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  freeze(): void {
    this.frozen = true;
  }

  down(): void {
    this.refusing = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Forwards what clients send at most this fast (0: unlimited): a slow uplink. */
  throttle(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Flips one byte of the next chunk a client sends that is at least this long (a request body's). */
  corruptOnce(minChunk = 32 * 1024): void {
    this.corruptAtLeast = minChunk;
  }

  up(): void {
    this.frozen = false;
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise((r) => this.server.close(r));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on("data", (d) => {
      if (this.frozen) return;
      if (this.corruptAtLeast && d.length >= this.corruptAtLeast) {
        this.corruptAtLeast = 0;
        d = Buffer.from(d);
        d[d.length - 1] = d[d.length - 1]! ^ 0xff;
      }
      upstream.write(d);
      if (this.bytesPerSecond) {
        client.pause();
        setTimeout(() => client.resume(), (d.length / this.bytesPerSecond) * 1000);
      }
    });
    upstream.on("data", (d) => client.write(d));
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on("close", close);
      s.on("error", close);
    }
  }
}
