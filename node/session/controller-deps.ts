// What the session controller (session-controller.ts) is given by the node's wiring (compose-node.ts).
import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { Clock } from "../../platform/clock.js";
import type { BatchReady, NodeEvent, NodeState } from "../../contract/generated/payloads.js";
import type { SpawnFn } from "../process/child-runner.js";
import type { CameraMemory } from "../camera/camera-memory.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import type { DetectStreamFormat, ListCameras } from "./camera-plan.js";
import type { SessionPlan } from "./session-plan.js";
import type { Session, SessionDeps } from "./session-types.js";

/** Builds a session's recording from its source, as the configuration says (node/source/create-session.ts). */
export type CreateSession = (
  config: Config,
  plan: SessionPlan,
  ffmpeg: { path: string; launcher: readonly string[]; capabilities: FfmpegCapabilities },
  deps: SessionDeps,
) => Session;

export interface ControllerDeps {
  log: Logger;
  createSession: CreateSession;
  /** Every secret of the configuration out of a text (platform/secrets.ts): a sensor program's kept output. */
  redact: (text: string) => string;
  ffmpegPath: string;
  /** What that ffmpeg accepts where releases differ, found once (ffmpeg-capabilities.ts); absent: the baseline. */
  ffmpegCapabilities?: () => Promise<FfmpegCapabilities>;
  launcher: readonly string[];
  publishState: (state: NodeState) => void;
  publishEvent: (event: Omit<NodeEvent, "node" | "at">) => void;
  announce: (batch: BatchReady) => Promise<void>;
  syncStatus: () => BatchReady["clock"];
  spawn?: SpawnFn;
  childEnv: Readonly<Record<string, string>>;
  freeBytes?: (dir: string) => Promise<number>;
  /** What a network camera serves (node/camera/stream-format.ts). */
  detectStreamFormat?: DetectStreamFormat;
  /** The V4L2 cameras, for --camera auto (node/camera/cameras-cli.ts). */
  listCameras?: ListCameras;
  /** MPEG-TS cameras' keyframe intervals between sessions (node/camera/camera-memory.ts). */
  cameraMemory?: CameraMemory;
  /** The camera's latency correction in µs, read when a session begins (node/calibration/). */
  latencyUs?: () => number;
  /** Wall-clock time, the scheduled start, the session's disk guard and its recording's timers. */
  clock: Clock;
}
