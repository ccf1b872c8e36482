// What a session's recording (session-supervisor.ts and its source, node/source/) is given and ends with.
import type { Logger } from "pino";
import type { BatchReady } from "../../contract/generated/payloads.js";
import type { CameraArgs } from "../ffmpeg/ffmpeg-args.js";
import type { Exit, SpawnFn } from "../process/child-runner.js";
import type { SessionEvent } from "./session-events.js";
import type { RestartPolicy } from "./restart-policy.js";
import type { Clock } from "../../platform/clock.js";

export interface CameraOptions {
  node: string;
  session: string;
  sessionDir: string;
  ffmpegPath: string;
  launcher: readonly string[];
  /** What ffmpeg is to capture: the camera, its format, the batches (ffmpeg-args.ts). */
  capture: Omit<CameraArgs, "filePattern" | "startNumber">;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** How often ffmpeg's output is read once recording runs: the latency of a batch announcement. */
  pollMs?: number;
  restartPolicy?: RestartPolicy;
  /** The camera's latency (µs), subtracted from every time the session publishes (docs/time.md). */
  latencyUs?: number;
}

export interface SessionDeps {
  log: Logger;
  /** Announces a batch; called in order, after its manifest line is on disk. */
  announce: (batch: BatchReady) => Promise<void>;
  syncStatus: () => BatchReady["clock"];
  /** Warnings and faults worth an event (restarts, gaps, coarse time bases): the controller publishes them. */
  event?: (e: SessionEvent) => void;
  spawn?: SpawnFn;
  /** The environment of every child (platform/config/child-env.ts); spawn already applies it. */
  childEnv: Readonly<Record<string, string>>;
  /** Every secret of the configuration out of a text (platform/secrets.ts). */
  redact: (text: string) => string;
  /** Wall-clock time, the restart backoff, and ffmpeg's first-frame wait, stop ladder and polling. */
  clock: Clock;
}

export interface SessionResult {
  batches: number;
  frames: number;
  exit: Exit;
  /** Why the recording ended: asked to stop, its duration ran out, or ffmpeg failed for good. */
  reason: "stopped" | "completed" | "failed" | "disk_full";
  error?: string;
  /** The longest interval between two keyframes the camera sent (µs), when any two were seen. */
  keyframeIntervalUs?: number;
}

/** What the session controller drives: a camera's recording, or a sensor program's (node/source/). */
export interface Session {
  /** Resolves when the session is over and every batch is on disk, in the manifest and announced. */
  readonly done: Promise<SessionResult>;
  readonly batchCount: number;
  /** Wall-clock µs of the session's first frame or sample, once known. */
  readonly startedAtUs: number | null;
  /** Resolves at the first frame or sample; throws CameraUnavailableError when none comes. */
  start(): Promise<void>;
  stop(reason?: "stopped" | "disk_full" | "completed"): Promise<SessionResult>;
  diskFull(what: string): void;
}

export class CameraUnavailableError extends Error {}

/**
 * ffmpeg reads a network camera on a clock coarser than 1 ms (a demuxer that counts frames at 25 fps
 * instead of stamping their arrival): stopped before its first frame, nothing recorded. `demuxer` is
 * the one ffmpeg chose (the session controller may start again with an exact one).
 */
export class InexactTimesError extends Error {
  constructor(
    message: string,
    readonly demuxer: string | null,
  ) {
    super(message);
  }
}
