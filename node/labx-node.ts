import { mkdir } from "node:fs/promises";
import type { Config } from "../platform/config/config.js";
import type { NodeState } from "../contract/generated/payloads.js";
import { nodeTopic } from "../contract/topics.js";
import { part, unit, Units } from "../platform/units.js";
import type { SessionResult } from "./session/session-types.js";
import { recoverSessions, type RecoveryDeps } from "./data/recovery.js";
import { recoverProgramSessions } from "./source/program-recovery.js";
import { composeNode, type NodeDeps, type NodeParts } from "./compose-node.js";

export { OUTBOX_DIR, type NodeDeps } from "./compose-node.js";

const DRAIN_TIMEOUT_MS = 5000;

/**
 * One labx node: its parts (compose-node.ts) as Units, started in order and stopped in reverse, so
 * that the last batch is announced before `offline` goes out.
 */
export class LabxNode {
  private readonly parts: NodeParts;
  /** Every part, in start order (platform/units.ts). */
  private readonly units: Units;
  private ready: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    private readonly deps: NodeDeps,
  ) {
    const p = (this.parts = composeNode(config, deps));
    this.units = new Units(
      [
        unit("data dir", async () => void (await mkdir(config.data_dir, { recursive: true }))),
        part("outbox", p.outbox),
        unit("recovery", () => this.recover()),
        // Its backlog read before retention's first pass: what is not uploaded is kept.
        part("upload", p.uploader),
        unit(
          "retention",
          async () => {
            await p.retention.apply();
            p.retention.start();
          },
          () => p.retention.stop(),
        ),
        p.extras,
        part("mqtt", p.connection),
        unit(
          "delivery",
          () => {},
          () => this.drain(),
        ),
        part("sync", p.sync),
        part("preview", p.preview),
        unit(
          "sessions",
          () => {},
          () => p.controller.shutdown(),
        ),
      ],
      p.log,
    );
  }

  get state(): NodeState {
    return this.parts.state();
  }

  onSessionEnded(handler: (r: SessionResult) => unknown): () => void {
    return this.parts.controller.onSessionEnded(handler);
  }

  /** Starts every part in order (units below); resolves when the node is ready. Idempotent. */
  start(): Promise<void> {
    this.ready ??= this.units.start().then(() => {
      this.parts.log.info({ groups: this.config.groups, data_dir: this.config.data_dir }, "node ready");
    });
    return this.ready;
  }

  /** Recovers what a killed predecessor left: journaled before the first connect, then sent in order. */
  private async recover(): Promise<void> {
    const deps: RecoveryDeps = {
      dataDir: this.config.data_dir,
      node: this.config.sbc_id,
      ffmpegPath: this.deps.ffmpegPath,
      childEnv: this.deps.childEnv,
      redact: this.parts.redact,
      log: this.deps.log.child({ module: "recovery" }),
      announce: (batch) =>
        this.parts.messages.owe(
          nodeTopic(this.config.base_topic, this.config.sbc_id, "batch"),
          JSON.stringify(batch),
        ),
      publishEvent: this.parts.publishEvent,
      syncStatus: () => ({
        synced: false,
        reason: "recovered after a restart: the clock's state while recording is unknown",
      }),
      settleMs: this.config.stop_timeout * 1000,
      clock: this.deps.clock,
    };
    await recoverSessions(deps);
    await recoverProgramSessions(deps);
  }

  /** With the broker up, what is owed goes out now; otherwise it waits in the journal for the next run. */
  private async drain(): Promise<void> {
    if (!(await this.parts.outbox.drain(DRAIN_TIMEOUT_MS)))
      this.parts.log.warn(
        { pending: this.parts.outbox.pendingCount },
        "stopping with undelivered messages (kept for the next start)",
      );
  }

  /** Starts a session directly (for --duration at launch), with the same checks as the command. */
  startSession(opts: { session?: string; duration?: number }): Promise<NodeState> {
    return this.parts.controller.start(opts);
  }

  /**
   * Stops in reverse: sessions end (the last batch finalized and journaled), the clock stops, what is
   * owed is delivered while the broker is there, then `offline` and the disconnect. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.units.stop().then(() => this.parts.log.info("node stopped"));
    return this.stopping;
  }
}
