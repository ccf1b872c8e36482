import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from "mqtt";

export interface Message {
  topic: string;
  text: string;
  /** The payload as sent (binary payloads: previews). */
  bytes: Buffer;
  retain: boolean;
  /** Date.now() at arrival. */
  at: number;
  json(): unknown;
}

/** A test client that subscribes, keeps every message, and waits for conditions on them. */
export class MqttRecorder {
  readonly messages: Message[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      const text = payload.toString();
      this.messages.push({
        topic,
        text,
        bytes: payload,
        retain: packet.retain,
        at: Date.now(),
        json: () => JSON.parse(text) as unknown,
      });
      for (const w of this.waiters) w();
    });
  }

  static async connect(
    url: string,
    topics: string[],
    protocolVersion: 4 | 5 = 4,
    options: IClientOptions = {},
  ): Promise<MqttRecorder> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion,
      reconnectPeriod: 200,
      clean: true,
      ...options,
    });
    const rec = new MqttRecorder(client);
    if (topics.length) await client.subscribeAsync(topics, { qos: 1 });
    return rec;
  }

  on(topic: string): Message[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  jsonOn<T = Record<string, unknown>>(topic: string): T[] {
    return this.on(topic).map((m) => m.json() as T);
  }

  async publish(
    topic: string,
    payload: string | Buffer,
    opts: IClientPublishOptions = { qos: 1 },
  ): Promise<void> {
    await this.client.publishAsync(topic, payload, opts);
  }

  /**
   * Resolves once every message the broker delivered before now has reached this recorder: a marker
   * it publishes itself comes back after them (one broker, in order to each subscriber). With a node
   * stopped (its outbox drained), what it never sent can then be asserted absent, without a fixed wait.
   */
  async barrier(base: string): Promise<void> {
    const topic = `${base}/_test/barrier-${Math.random().toString(16).slice(2)}`;
    await this.client.subscribeAsync(topic, { qos: 1 });
    await this.publish(topic, "barrier");
    await this.waitFor(() => (this.on(topic).length > 0 ? true : undefined), 10_000, "the barrier");
    await this.client.unsubscribeAsync(topic);
  }

  /**
   * Resolves with the first value `check` returns that is not undefined, re-checked on each message
   * and every 100 ms (conditions on files and processes change without a message).
   */
  waitFor<T>(check: () => T | undefined, timeoutMs = 30_000, what = "condition"): Promise<T> {
    return new Promise((resolve, reject) => {
      const tryIt = (): boolean => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(() => void tryIt(), 100);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter = (): void => void tryIt();
      this.waiters.push(waiter);
      tryIt();
    });
  }

  /** Publishes a command and waits for the reply with its id on the node's reply topic. */
  async command(
    base: string,
    target: string,
    node: string,
    cmd: Record<string, unknown>,
    timeoutMs = 30_000,
  ) {
    const id = (cmd.id as string | undefined) ?? `t-${Math.random().toString(36).slice(2)}`;
    await this.publish(`${base}/${target}/cmd`, JSON.stringify({ ...cmd, id }));
    return this.waitFor(
      () => this.jsonOn<Record<string, unknown>>(`${base}/${node}/reply`).find((r) => r.id === id),
      timeoutMs,
      `reply ${id} from ${node}`,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
