import type { Logger } from "pino";
import type { BatchFinalizer } from "../data/batch-finalizer.js";
import { closeSession } from "../data/session-files.js";
import type { Exit } from "../process/child-runner.js";
import { diskFullEvent, endError, isNoSpace, restartedEvent, type SessionEvent } from "./session-events.js";
import type { RestartPolicy } from "./restart-policy.js";
import { Restarts } from "./restarts.js";
import type { SessionResult, Session } from "./session-types.js";
import type { Clock } from "../../platform/clock.js";

export type StopReason = "stopped" | "disk_full" | "completed";

/** One process of a session: an ffmpeg, or one run of the sensor program. */
export interface SourceRun {
  /** 0 for the session's first, then 1, 2… after restarts. */
  readonly index: number;
  /** Resolves when the process has ended. */
  readonly exited: Promise<Exit>;
  /** Asks it to end (politely, then by signal after `timeoutMs`); resolves when it has. */
  stop(timeoutMs: number): Promise<void>;
}

/** What the session does once a run has ended, as its source sees it. */
export interface RunEnd {
  /** The run died while it should have gone on. */
  crashed: boolean;
  /** Why it ended: the event's and the session's error. */
  why: string;
  /** A crash another run may mend (not a first run that never delivered a frame or sample). */
  restartable: boolean;
  /** The session ends with this run: its last batches are queued, the last with data marked `last`. */
  finish(): void;
  /** Another run follows: on the session's chain, before the backoff, its remaining batches are queued. */
  handOver(): Promise<void>;
}

/**
 * A recording's source (node/source/): the camera through ffmpeg or a sensor program. It spawns runs
 * and turns their output into batches; the supervisor owns the session's loop around them.
 */
export interface SessionSource<R extends SourceRun = SourceRun> {
  /** Who runs, in logs and events: "ffmpeg", "the sensor program". */
  readonly name: string;
  readonly finalizer: BatchFinalizer;
  /** Wall-clock µs of the session's first frame or sample, once known. */
  readonly startedAtUs: number | null;
  /** Readies the session's folder before its first run. */
  prepare(): Promise<void>;
  /** Spawns run `index`; throws when it cannot be spawned. */
  spawn(index: number): R;
  /** The first run's first frame or sample ("ok"), or why none came ("exit", "timeout", …). */
  first(run: R): Promise<string>;
  /** What start() throws when the first run gave no frame or sample. */
  startError(run: R, outcome: string): Error;
  /** The first run delivered: the session is recording. */
  started?(): void;
  /** A run has exited (its state already read): what the session does next. */
  ended(run: R, exit: Exit): RunEnd;
  /** A restarted run was spawned. */
  restarted?(run: R): void;
  /** A stop was asked for. */
  stopping?(): void;
  /** The session ends: what the source still holds is queued before its end is written. */
  ending?(): void;
  /** The session's count of frames or samples, and what else the result says. */
  result(): { frames: number; keyframeIntervalUs?: number };
}

/** What a source may ask of its session. */
export interface SessionContext {
  /** Whether a stop was asked for (or the disk filled, or the duration ran out). */
  stopRequested(): boolean;
  now(): number;
  event(e: SessionEvent): void;
  /** Runs `step` on the session's chain, after every step queued before: batches are listed in order. */
  queue(step: () => void | Promise<void>, onError?: (err: unknown) => void): void;
  /** A write failed: logged, and the session ends as `disk_full` when it was for lack of space. */
  writeFailed(err: unknown, what: string): void;
  diskFull(what: string): void;
  /** A batch on disk is not in the manifest: no session-end is written, so recovery lists it. */
  unlisted(): void;
  stop(reason: StopReason): Promise<SessionResult>;
}

export interface SupervisorOptions {
  sessionDir: string;
  stopTimeoutMs: number;
  restartPolicy?: RestartPolicy;
}

export interface SupervisorDeps {
  log: Logger;
  event?: (e: SessionEvent) => void;
  clock: Clock;
}

/**
 * One session's loop, whatever records it: the first run started and waited for, a run that dies
 * restarted after a backoff on the session's grid (too many failures end it as `failed`), every batch
 * finalized strictly in order on one chain, and the end — stop, duration, disk full or failure —
 * written once every batch is on disk, in the manifest and announced (`done`).
 */
export class SessionSupervisor<R extends SourceRun> implements Session {
  readonly done: Promise<SessionResult>;
  private readonly source: SessionSource<R>;
  private readonly restarts: Restarts;
  private chain: Promise<void> = Promise.resolve();
  private current: R | null = null;
  private stopRequested = false;
  private stopReason: StopReason | null = null;
  private lastExit: Exit = { code: 0, signal: null, forced: "none" };
  private lastError: string | null = null;
  /** Set when a write failed for lack of space: the session ends with it, state error. */
  private diskFullError: string | null = null;
  /** A batch on disk is not in the manifest: no session-end, so recovery lists it at the next start. */
  private hasUnlisted = false;
  private finished = false;
  private resolveDone!: (r: SessionResult) => void;

  constructor(
    private readonly o: SupervisorOptions,
    private readonly deps: SupervisorDeps,
    source: (session: SessionContext) => SessionSource<R>,
  ) {
    this.restarts = new Restarts(o.restartPolicy, deps.clock);
    this.done = new Promise((r) => (this.resolveDone = r));
    this.source = source(this.context());
  }

  get batchCount(): number {
    return this.source.finalizer.batches;
  }

  get startedAtUs(): number | null {
    return this.source.startedAtUs;
  }

  /** Resolves at the first frame or sample; throws the source's error when none comes. */
  async start(): Promise<void> {
    await this.source.prepare();
    const run = this.spawn(0);
    const outcome = await this.source.first(run);
    if (outcome === "ok") return this.source.started?.();
    if (outcome !== "exit") await run.stop(this.o.stopTimeoutMs);
    await this.done;
    throw this.source.startError(run, outcome);
  }

  /** Ends the session: the run finishes its last, shorter batch; resolves when all are announced. */
  async stop(reason: StopReason = "stopped"): Promise<SessionResult> {
    this.stopReason ??= reason;
    this.stopRequested = true;
    this.source.stopping?.();
    // Between two runs: nothing is recording, end the session here.
    if (this.restarts.cancel()) this.end(this.stopReason);
    await this.current?.stop(this.o.stopTimeoutMs);
    return this.done;
  }

  /**
   * A write failed for lack of space (the node's own files, or the run's): the session ends now as
   * `disk_full`, with the error kept for the state. What is already on disk stays as it is; batches
   * that could not be listed are finished by recovery at the next start (no session-end is written).
   */
  diskFull(what: string): void {
    if (this.diskFullError) return;
    this.diskFullError = `disk full: ${what}`;
    this.deps.log.error({ what }, "disk full: stopping the session");
    this.deps.event?.(diskFullEvent(what));
    void this.stop("disk_full");
  }

  private context(): SessionContext {
    return {
      stopRequested: () => this.stopRequested,
      now: () => this.now(),
      event: (e) => this.deps.event?.(e),
      queue: (step, onError) => {
        const next = this.chain.then(step);
        this.chain = onError ? next.catch(onError) : next;
      },
      writeFailed: (err, what) => {
        this.deps.log.error({ err, what }, "write failed");
        if (isNoSpace(err)) this.diskFull(`${what} (${(err as Error).message})`);
      },
      diskFull: (what) => this.diskFull(what),
      unlisted: () => (this.hasUnlisted = true),
      stop: (reason) => this.stop(reason),
    };
  }

  private now(): number {
    return this.deps.clock.now();
  }

  private spawn(index: number): R {
    const run = this.source.spawn(index);
    this.current = run;
    void run.exited.then((exit) => this.onExit(run, exit));
    return run;
  }

  private onExit(run: R, exit: Exit): void {
    this.current = null;
    this.lastExit = exit;
    const end = this.source.ended(run, exit);
    let delay: number | null = null;
    if (end.crashed) {
      this.lastError = end.why;
      this.restarts.failed(this.now());
      if (end.restartable) delay = this.restarts.delay(this.now());
    }
    if (delay === null) {
      end.finish();
      this.end(end.crashed ? "failed" : this.stopRequested ? (this.stopReason ?? "stopped") : "completed");
      return;
    }
    const { name } = this.source;
    this.deps.log.warn({ exit, delay_ms: delay, failures: this.restarts.count }, `${name} died, restarting`);
    this.deps.event?.(restartedEvent(end.why, delay, name));
    this.chain = this.chain.then(async () => {
      await end.handOver();
      // A stop that came while the run's last batches were being finished ends the session here.
      if (this.stopRequested) return this.end(this.stopReason ?? "stopped");
      this.restarts.schedule(delay, () => {
        let next: R;
        try {
          next = this.spawn(run.index + 1);
        } catch (err) {
          // e.g. the session folder is gone: nothing more can be recorded into it.
          this.lastError = (err as Error).message;
          return this.end("failed");
        }
        this.source.restarted?.(next);
      });
    });
  }

  private end(reason: SessionResult["reason"]): void {
    if (this.finished) return;
    this.finished = true;
    this.source.ending?.();
    this.chain = this.chain.then(async () => {
      const error = endError(
        reason,
        this.restarts.count,
        this.lastError,
        this.diskFullError,
        this.source.name,
      );
      const { finalizer } = this.source;
      const { batches } = finalizer;
      await closeSession(finalizer, this.o.sessionDir, this.deps.log, {
        reason,
        batches,
        endedAt: new Date(this.now()),
        unlisted: this.hasUnlisted,
      });
      const { frames, keyframeIntervalUs } = this.source.result();
      const result = { batches, frames, exit: this.lastExit, reason };
      this.deps.log.info({ ...result, keyframe_interval_us: keyframeIntervalUs ?? null }, "recording ended");
      this.resolveDone({
        ...result,
        ...(error ? { error } : {}),
        ...(keyframeIntervalUs ? { keyframeIntervalUs } : {}),
      });
    });
  }
}
