import type { IClientPublishOptions } from "mqtt";
import type { MqttConnection } from "../../platform/mqtt/connection.js";
import type { Clock } from "../../platform/clock.js";

// What `labx conformance` sees of the node under test: every message under <base>/<target>/… (and the
// probe's own response topic), kept with its retain flag and arrival time, and commands sent to it.

export interface Seen {
  topic: string;
  text: string;
  retain: boolean;
  /** Arrival order: 0 for the first message the probe saw. */
  n: number;
  correlation: Buffer | null;
}

export class Probe {
  readonly messages: Seen[] = [];
  private waiters = new Set<() => void>();
  private readonly clock: Clock;
  private counter = 0;

  constructor(
    private readonly connection: MqttConnection,
    readonly base: string,
    readonly target: string,
    readonly timeoutMs: number,
    clock: Clock,
  ) {
    this.clock = clock;
    connection.onMessage((topic, payload, packet) => {
      this.messages.push({
        topic,
        text: payload.toString(),
        retain: packet.retain,
        n: this.messages.length,
        correlation: packet.properties?.correlationData ?? null,
      });
      for (const w of this.waiters) w();
    });
  }

  get mqtt5(): boolean {
    return this.connection.protocolVersion === 5;
  }

  topic(leaf: string, node = this.target): string {
    return `${this.base}/${node}/${leaf}`;
  }

  /** The messages on `leaf` that came after `mark()` said `since`. */
  on(leaf: string, since = 0): Seen[] {
    const topic = this.topic(leaf);
    return this.messages.filter((m) => m.topic === topic && m.n >= since);
  }

  /** Where the messages stand now: what comes after is newer than anything sent before. */
  mark(): number {
    return this.messages.length;
  }

  /** A fresh command id, unique to this run. */
  id(what: string): string {
    return `conf-${what}-${process.pid}-${++this.counter}`;
  }

  subscribe(topics: string[]): Promise<void> {
    return this.connection.subscribe(topics);
  }

  /** Publishes a command (any text: the probe also sends what is not JSON) to `<base>/<to>/cmd`. */
  send(to: string, payload: string, options: IClientPublishOptions = { qos: 1 }): Promise<void> {
    return this.connection.publish(`${this.base}/${to}/cmd`, payload, options);
  }

  /** The first value `check` gives that is not undefined, re-checked on each message; undefined at timeout. */
  waitFor<T>(check: () => T | undefined, timeoutMs = this.timeoutMs): Promise<T | undefined> {
    return new Promise((resolve) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const timer = this.clock.setTimeout(() => {
        this.waiters.delete(tryIt);
        resolve(undefined);
      }, timeoutMs);
      const tryIt = (): void => {
        const v = check();
        if (v === undefined) return;
        this.clock.clearTimeout(timer);
        this.waiters.delete(tryIt);
        resolve(v);
      };
      this.waiters.add(tryIt);
    });
  }

  /** Sends and waits for the node's reply: the one with `id`, or (no id) the first after sending. */
  async request(
    payload: string,
    o: { id?: string | null; to?: string; options?: IClientPublishOptions } = {},
  ): Promise<Record<string, unknown> | undefined> {
    const since = this.mark();
    await this.send(o.to ?? this.target, payload, o.options);
    return this.waitFor(() => {
      for (const m of this.on("reply", since)) {
        const r = parseObject(m.text);
        if (r && (o.id === undefined || o.id === null ? true : r.id === o.id)) return r;
      }
      return undefined;
    });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }
}

export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
