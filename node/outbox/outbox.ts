import type { Logger } from "pino";
import type { TimerHandle } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";
import { Journal, type JournalEntry } from "./journal.js";
import { Listeners } from "../../platform/listeners.js";

export interface OutboxMessage {
  topic: string;
  payload: string;
  retain?: boolean;
  correlation?: Buffer;
}

export interface OutboxDeps {
  /** Journal folder, e.g. <data-dir>/.labx. */
  dir: string;
  /** Publishes at QoS 1; resolves on the broker's acknowledgement, rejects when the client gave up. */
  publish: (entry: JournalEntry) => Promise<void>;
  log: Logger;
  /** Compact the journal once it holds this many entries and none is pending. */
  compactAfter?: number;
  clock: Clock;
}

/**
 * Durable announcements: every batch-ready event, event and reply is written to the journal
 * (fsync'ed) before it is handed to the MQTT client, and marked done only on the broker's PUBACK.
 * What a previous run left unacknowledged is sent again, in journal order, at start. The guarantee is
 * at least once, in order per node: a message the broker acknowledged but whose ack the node did not
 * record before dying is sent again, with the same content (a batch keeps its session and seq).
 */
export class Outbox {
  private readonly journal: Journal;
  /** Written or being written, not yet acknowledged, in id order; `durable` once fsync'ed. */
  private readonly pending = new Map<number, { entry: JournalEntry; durable: boolean }>();
  private drained: (() => void)[] = [];
  /** Handed to the client and not failed: not to be handed again until the next connect. */
  private readonly inFlight = new Set<number>();
  private nextId = 0;
  private written = 0;
  private connected = false;
  private started = false;

  private readonly writeErrors: Listeners<[unknown]>;

  constructor(private readonly deps: OutboxDeps) {
    this.journal = new Journal(deps.dir);
    this.writeErrors = new Listeners(deps.log, "outbox write error");
  }

  /** The journal could not be written (a full disk): the message is still delivered, from memory. */
  onWriteError(listener: (err: unknown) => void): () => void {
    return this.writeErrors.add(listener);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sessions whose batch announcements are not acknowledged yet (retention must keep them). `isBatch`
   * tells a batch announcement's topic (contract/topics.ts isBatchTopic).
   */
  pendingSessions(isBatch: (topic: string) => boolean): Set<string> {
    const out = new Set<string>();
    for (const { entry } of this.pending.values()) {
      if (!isBatch(entry.topic)) continue;
      try {
        out.add((JSON.parse(entry.payload) as { session: string }).session);
      } catch {
        // not ours to read
      }
    }
    return out;
  }

  /** Loads what a previous run left; it is sent at the first connect. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { pending, nextId } = this.journal.open();
    this.nextId = nextId;
    for (const entry of pending) this.pending.set(entry.id, { entry, durable: true });
    if (pending.length > 0)
      this.deps.log.info({ pending: pending.length }, "outbox: resending after restart");
  }

  /**
   * Resolves once the message is on disk (or, when the journal cannot be written, kept in memory);
   * delivery follows whenever the broker is reachable.
   */
  async add(msg: OutboxMessage): Promise<void> {
    const entry: JournalEntry = {
      id: this.nextId++,
      topic: msg.topic,
      payload: msg.payload,
      ...(msg.retain ? { retain: true } : {}),
      ...(msg.correlation ? { correlation: msg.correlation.toString("base64") } : {}),
    };
    const slot = { entry, durable: false };
    this.pending.set(entry.id, slot);
    this.written++;
    try {
      await this.journal.append(entry);
    } catch (err) {
      // Not on disk, so not resent after a restart; but delivered while this process lives.
      this.deps.log.error({ err, topic: entry.topic }, "outbox: journal not written, delivering from memory");
      this.writeErrors.emit(err);
    }
    slot.durable = true;
    // Never before it is on disk; and never twice, should a connect have come in meanwhile.
    if (this.connected && !this.inFlight.has(entry.id)) this.send(entry);
  }

  /** Resolves when nothing is pending, or after timeoutMs (for a clean stop with the broker up). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const { clock } = this.deps;
    let timer: TimerHandle | undefined;
    const done = await Promise.race([
      new Promise<true>((r) => this.drained.push(() => r(true))),
      new Promise<false>((r) => (timer = clock.setTimeout(() => r(false), timeoutMs))),
    ]);
    clock.clearTimeout(timer);
    return done;
  }

  /** On every (re)connect: hand over, in order, everything not already with the client. */
  onConnect(): void {
    this.connected = true;
    for (const { entry, durable } of this.pending.values())
      if (durable && !this.inFlight.has(entry.id)) this.send(entry);
  }

  /**
   * Whatever was in flight is handed over again at the next connect. The outbox is the only one that
   * resends (the MQTT client keeps no copy: mqtt/no-store.ts), so a message is delivered twice only
   * when the broker had it and its acknowledgement was lost with the connection.
   */
  onDisconnect(): void {
    this.connected = false;
    this.inFlight.clear();
  }

  /** Stops handing out messages and closes the files; anything pending waits for the next start. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.connected = false;
    await this.journal.close();
  }

  /**
   * Resolves once what the outbox has heard so far (acknowledgements included) is written: for a stop
   * that must leave the journal as it stands, and for tests, instead of waiting a fixed time.
   */
  async settled(): Promise<void> {
    // Acknowledgements arrive as resolved promises: let them all run first.
    await new Promise((resolve) => setImmediate(resolve));
    await this.journal.settled();
  }

  private send(entry: JournalEntry): void {
    this.inFlight.add(entry.id);
    this.deps.publish(entry).then(
      () => this.acked(entry.id),
      (err: unknown) => {
        // The client dropped it (stopped, or gave up): it stays pending for the next connect or run.
        this.inFlight.delete(entry.id);
        this.deps.log.debug({ err, id: entry.id }, "outbox: not delivered yet");
      },
    );
  }

  private acked(id: number): void {
    this.inFlight.delete(id);
    if (!this.pending.delete(id) || !this.started) return;
    if (this.pending.size === 0) for (const r of this.drained.splice(0)) r();
    if (this.pending.size === 0 && this.written >= (this.deps.compactAfter ?? 1000)) {
      this.written = 0;
      void this.journal
        .truncate()
        .catch((err: unknown) => this.deps.log.error({ err }, "outbox compaction failed"));
      return;
    }
    void this.journal
      .ack(id)
      .catch((err: unknown) => this.deps.log.error({ err }, "outbox ack not recorded"));
  }
}
