import { Aedes } from "aedes";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";

export interface BrokerOptions {
  port: number;
  host: string;
  log: Logger;
}

/** The embedded aedes broker (MQTT 3.1.1 over TCP). start() resolves with the bound port. */
export class EmbeddedBroker {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: BrokerOptions) {}

  get port(): number | null {
    const addr = this.server?.address();
    return addr && typeof addr === "object" ? addr.port : null;
  }

  async start(): Promise<number> {
    if (this.server) return this.port!;
    const { log } = this.opts;
    const broker = await Aedes.createBroker();
    broker.on("client", (c) => log.debug({ client: c.id }, "client connected"));
    broker.on("clientDisconnect", (c) => log.debug({ client: c.id }, "client disconnected"));
    broker.on("clientError", (c, err) => log.debug({ client: c.id, err: err.message }, "client error"));
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.broker = broker;
    this.server = server;
    log.info({ host: this.opts.host, port: this.port }, "embedded broker listening");
    return this.port!;
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    if (!broker || !server) return;
    this.broker = null;
    this.server = null;
    await new Promise<void>((r) => broker.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    this.opts.log.info("embedded broker closed");
  }
}
