import type { Logger } from "pino";
import type { NodeState } from "../contract/generated/payloads.js";
import { FreeSpace, wholeMb } from "../platform/disk/free-space.js";
import { callSafely, Listeners } from "../platform/listeners.js";
import type { Clock } from "../platform/clock.js";
import type { Unit } from "../platform/units.js";

const FREE_SPACE_INTERVAL_MS = 30_000;

export interface NodeStateOptions {
  dataDir: string;
  groups: readonly string[];
  /** The latency correction in effect (node/calibration/), or null. */
  latency?: () => { ms: number; source: "config" | "verify" } | null;
  log: Logger;
  freeBytes?: (dir: string) => Promise<number>;
  clock: Clock;
}

const latencyFields = (l: { ms: number; source: "config" | "verify" } | null): Partial<NodeState> =>
  l ? { latency_ms: l.ms, latency_source: l.source } : {};

/**
 * What the node adds to the session's state (session-controller.ts): its groups, for controllers that
 * address groups, and the data directory's free space in whole MiB, polled idle or recording.
 */
export class NodeStateExtras implements Unit {
  readonly name = "free space";
  private readonly freeSpace: FreeSpace;
  private published: number | undefined;
  private upload: NodeState["upload"] | undefined;
  private readonly changed: Listeners<[]>;

  constructor(private readonly o: NodeStateOptions) {
    this.changed = new Listeners(o.log, "node state changed");
    this.freeSpace = new FreeSpace({
      dir: o.dataDir,
      intervalMs: FREE_SPACE_INTERVAL_MS,
      unref: true,
      onReading: (free) =>
        callSafely(o.log, "free space", () => {
          if (wholeMb(free) === this.published) return;
          this.published = wholeMb(free);
          this.changed.emit();
        }),
      ...(o.freeBytes ? { freeBytes: o.freeBytes } : {}),
      clock: o.clock,
    });
  }

  decorate(state: NodeState): NodeState {
    const bytes = this.freeSpace.bytes;
    return {
      ...state,
      groups: [...this.o.groups],
      ...latencyFields(this.o.latency?.() ?? null),
      ...(bytes === undefined ? {} : { free_mb: wholeMb(bytes) }),
      ...(this.upload ? { upload: this.upload } : {}),
    };
  }

  /** The upload backlog (node/upload/uploader.ts), in the state from now on. */
  setUpload(upload: NonNullable<NodeState["upload"]>): void {
    this.upload = upload;
    this.changed.emit();
  }

  /** Free space changed by a whole MiB, or the upload backlog: the state is worth publishing again. */
  onChange(listener: () => void): () => void {
    return this.changed.add(listener);
  }

  start(): Promise<void> {
    return this.freeSpace.start();
  }

  stop(): void {
    this.freeSpace.stop();
  }
}
