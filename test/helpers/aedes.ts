import { pino } from "pino";
import { EmbeddedBroker } from "../../broker/embedded-broker.js";
import type { Broker } from "./mosquitto.js";

/** Our own aedes broker on a free loopback port. */
export async function startAedes(): Promise<Broker> {
  const broker = new EmbeddedBroker({
    port: 0,
    host: "127.0.0.1",
    log: pino({ level: "silent" }),
    monotonicMs: () => performance.now(),
  });
  const port = await broker.start();
  return { url: `mqtt://127.0.0.1:${port}`, port, stop: () => broker.stop() };
}
