import { appendFile, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { ClientSecurity } from "../platform/mqtt/client-security.js";
import type { ClockStatus } from "../contract/generated/payloads.js";
import { MqttConnection } from "../platform/mqtt/connection.js";
import { isName } from "../contract/names.js";
import { everyNode, fleetTopic } from "../contract/topics.js";
import { decodeNodeMessage } from "../contract/node-message.js";
import { redactUrl } from "../platform/secrets.js";
import type { Validators } from "../contract/schemas.js";
import { FLEET_CSV_HEADER, fleetCsvRow, fleetStats } from "./fleet-stats.js";
import type { Clock } from "../platform/clock.js";

export interface FleetMonitorOptions {
  brokerUrl: string;
  baseTopic: string;
  dataDir: string;
  /** A node's clock older than this is left out of the figures. */
  staleMs: number;
  validators: Validators;
  log: Logger;
  /** The process's time port (platform/clock.ts). */
  clock: Clock;
  security?: ClientSecurity;
}

/**
 * `labx monitor`: the old central server's job over MQTT. Keeps every node's latest clock status,
 * and on each new one publishes retained <base>/fleet/clock and appends the figures to
 * <data-dir>/fleet/<session>.csv (the session most nodes are recording, or no-session).
 */
export class FleetMonitor {
  private readonly connection: MqttConnection;
  private readonly clocks = new Map<string, ClockStatus>();
  private readonly sessions = new Map<string, string | null>();
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly o: FleetMonitorOptions) {
    this.connection = new MqttConnection({
      url: o.brokerUrl,
      clientId: `labx-monitor-${process.pid}`,
      availabilityTopic: fleetTopic(o.baseTopic, "availability"),
      subscriptions: [everyNode(o.baseTopic, "clock"), everyNode(o.baseTopic, "state")],
      log: o.log.child({ module: "mqtt" }),
      ...(o.security ? { security: o.security } : {}),
      clock: o.clock,
    });
    this.connection.onMessage((topic, payload) => this.onMessage(topic, payload));
  }

  async start(): Promise<void> {
    await this.connection.start();
    this.o.log.info({ broker: redactUrl(this.o.brokerUrl) }, "fleet monitor ready");
  }

  async stop(): Promise<void> {
    await this.connection.stop();
    await this.writes;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const m = decodeNodeMessage(this.o.baseTopic, topic, payload, this.o.validators);
    if (m?.leaf === "state" && m.value) {
      const s = m.value;
      this.sessions.set(m.node, s.state === "recording" || s.state === "scheduled" ? s.session : null);
    } else if (m?.leaf === "clock" && m.value) {
      this.clocks.set(m.node, m.value);
      this.publish();
    }
  }

  private currentSession(): string | null {
    const counts = new Map<string, number>();
    for (const s of this.sessions.values()) if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  }

  private publish(): void {
    const now = new Date(this.o.clock.now());
    const fresh = [...this.clocks.values()].filter(
      (c) => now.getTime() - Date.parse(c.checked_at) <= this.o.staleMs,
    );
    const stats = fleetStats(fresh, this.currentSession(), now);
    this.connection
      .publish(fleetTopic(this.o.baseTopic, "clock"), JSON.stringify(stats), { qos: 1, retain: true })
      .catch((err: unknown) => this.o.log.warn({ err }, "fleet clock not published"));
    const name = stats.session && isName(stats.session) ? stats.session : "no-session";
    const file = path.join(this.o.dataDir, "fleet", `${name}.csv`);
    this.writes = this.writes
      .then(async () => {
        await mkdir(path.dirname(file), { recursive: true });
        const exists = await stat(file).then(
          () => true,
          () => false,
        );
        await appendFile(file, (exists ? "" : FLEET_CSV_HEADER + "\n") + fleetCsvRow(stats) + "\n");
      })
      .catch((err: unknown) => this.o.log.error({ err, file }, "fleet CSV not written"));
  }
}
