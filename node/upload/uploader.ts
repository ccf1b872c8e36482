import type { Logger } from "pino";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import { callSafely } from "../../platform/listeners.js";
import type { TimerHandle } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";
import type { Unit } from "../../platform/units.js";
import { hashFile } from "../data/hash.js";
import { objectKey, type S3Location } from "./s3-location.js";
import type { S3Store } from "./s3-store.js";
import { endedFiles, listedFiles, scanBacklog, type Backlog, type PendingFile } from "./upload-backlog.js";
import { UploadQueue } from "./upload-queue.js";
import type { BatchReady } from "../../contract/generated/payloads.js";
import { appendLedger } from "./upload-ledger.js";

// Uploads what the manifests list, oldest first, one file at a time, beside the recording and never
// in its way: told of each batch as it is listed and of each session's end, it retries a failing store
// with backoff (1 s doubling to 30 s) and says so once per outage (`upload_failed`), then `uploaded`
// for each batch verified. Its queue is in memory (upload-queue.ts), read from the manifests and ledgers
// on disk once at start (upload-backlog.ts): no scan of the data directory while a session records.

export interface UploaderOptions {
  dataDir: string;
  node: string;
  location: S3Location;
  store: Pick<S3Store, "upload" | "bucket" | "credentialsReady">;
  /** Which folders of the data directory are sessions. */
  isSession: (name: string) => boolean;
  log: Logger;
  event: (e: Omit<NodeEvent, "node" | "at">) => void;
  /** The backlog changed (for the state). */
  onBacklog: (b: UploadBacklog) => void;
  clock: Clock;
  /** At stop, how long to go on uploading what is left while the store accepts (0: not at all). */
  drainMs?: number;
}

export interface UploadBacklog {
  pending: number;
  pending_bytes: number;
  oldest: string | null;
  last_error?: string;
}

/** A store back after an outage is used within half a minute. */
const MAX_BACKOFF_MS = 30_000;

export class Uploader implements Unit {
  readonly name = "upload";
  private readonly clock: Clock;
  private queue = new UploadQueue();
  /** What the node told, queued in order (each file's size is read first). */
  private told: Promise<void> = Promise.resolve();
  private retry: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private failures = 0;
  private lastError: string | null = null;
  private published = "";
  /** While stopping: uploads go on until then (stop()). */
  private drainUntil: number | null = null;

  constructor(private readonly o: UploaderOptions) {
    this.clock = o.clock;
  }

  /** Sessions with files not yet verified in the store: retention must keep them (it starts after this). */
  get pendingSessions(): ReadonlySet<string> {
    return this.queue.sessions;
  }

  /** Reads the backlog from disk (before any session records), then uploads it. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.queue = new UploadQueue(scanBacklog(this.o.dataDir, this.o.isSession));
    this.report(this.queue.backlog());
    try {
      await this.o.store.credentialsReady();
    } catch (err) {
      // Not fatal: recording goes on, and every pass says it again until the credentials are there.
      this.o.log.error(
        { reason: (err as Error).message },
        "no credentials for the store (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a credentials file)",
      );
    }
    this.nudge();
  }

  /**
   * A batch is listed (in the manifest, announced): it, its sidecar and the manifest are queued. Never
   * waited for by the recording; what it is told is queued in the order it was told.
   */
  batchListed(batch: BatchReady): void {
    this.tell(() => listedFiles(this.o.dataDir, batch));
  }

  /** A session ended: its final manifest and session-end.json are queued. */
  sessionEnded(session: string): void {
    this.tell(() => endedFiles(this.o.dataDir, session));
  }

  private tell(files: () => Promise<PendingFile[]>): void {
    this.told = this.told
      .then(files)
      .then((found) => {
        this.queue.add(found);
        this.report(this.queue.backlog());
        this.nudge();
      })
      .catch((err: unknown) => this.o.log.error({ err }, "upload backlog not updated"));
  }

  /** Something new may be on disk: upload it now unless a pass is running (then one more follows). */
  nudge(): void {
    if (this.stopped || this.retry) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.nudge();
      }
    });
  }

  /**
   * Uploads what is left while the store accepts, for up to `drainMs` (a node started with --duration
   * exits right after its session: its last batch, manifest and session-end.json go now, not at its
   * next start), then stops after the file in flight (the ledger only says what the store confirmed).
   */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.drainUntil = this.clock.now() + (this.o.drainMs ?? 0);
      // What the node told before it stopped (a session's end) is in the queue before the drain.
      await this.told;
      await this.running;
      while (
        this.failures === 0 &&
        !this.retry &&
        this.clock.now() < this.drainUntil &&
        this.queue.length > 0
      ) {
        this.running = this.pass();
        await this.running;
      }
    }
    this.stopped = true;
    if (this.retry) this.clock.clearTimeout(this.retry);
    this.retry = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    for (
      let file = this.queue.first();
      file && !this.stopped && (this.drainUntil === null || this.clock.now() < this.drainUntil);
      file = this.queue.first()
    ) {
      try {
        await this.uploadOne(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          // Removed before its turn (by hand: retention keeps what is not uploaded): nothing to send.
          this.o.log.warn({ file: file.name, session: file.session }, "file gone before its upload");
          this.queue.done(file);
          continue;
        }
        this.failed(file, err);
        this.report(this.queue.backlog());
        return;
      }
      this.queue.done(file);
      if (this.failures > 0)
        this.o.log.info({ after_failures: this.failures }, "the store accepts uploads again");
      this.failures = 0;
      this.lastError = null;
      this.report(this.queue.backlog());
    }
  }

  private report(b: Backlog): void {
    const state: UploadBacklog = {
      pending: b.files.length,
      pending_bytes: b.bytes,
      oldest: b.oldest,
      ...(this.lastError ? { last_error: this.lastError } : {}),
    };
    const text = JSON.stringify(state);
    if (text === this.published) return;
    this.published = text;
    callSafely(this.o.log, "upload backlog", () => this.o.onBacklog(state));
  }

  private async uploadOne(f: PendingFile): Promise<void> {
    const sha256 = f.sha256 ?? (await hashFile(f.path)).sha256;
    const key = objectKey(this.o.location, this.o.node, f.session, f.name);
    const stored = await this.o.store.upload(key, f.path, sha256);
    await appendLedger(`${this.o.dataDir}/${f.session}`, {
      file: f.name,
      key,
      bytes: stored.bytes,
      sha256,
      verified_at: new Date(this.clock.now()).toISOString(),
    });
    this.o.log.debug({ key, bytes: stored.bytes, resumed_parts: stored.resumedParts }, "uploaded");
    const b = f.batch;
    if (b && f.name === b.file.split("/").at(-1))
      this.o.event({
        type: "uploaded",
        level: "info",
        session: f.session,
        message: `${f.name} verified in s3://${this.o.store.bucket}/${key}`,
        bucket: this.o.store.bucket,
        key,
        file: b.file,
        seq: b.seq,
        bytes: stored.bytes,
        sha256,
      });
  }

  private failed(f: PendingFile, err: unknown): void {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.failures++;
    this.lastError = reason;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    if (this.failures === 1) {
      this.o.log.warn({ file: f.name, session: f.session, reason }, "upload failed; retrying with backoff");
      this.o.event({
        type: "upload_failed",
        level: "warning",
        session: f.session,
        message: `upload of ${f.name} failed (${reason}); retrying, nothing is removed until it is verified`,
        reason,
      });
    }
    this.retry = this.clock.setTimeout(() => {
      this.retry = null;
      this.nudge();
    }, delay);
  }
}
