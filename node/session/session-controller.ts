import type { Config } from "../../platform/config/config.js";
import type { NodeState, StartCommand } from "../../contract/generated/payloads.js";
import { generatedSessionName, sessionDir } from "../data/paths.js";
import { redactUrl } from "../../platform/secrets.js";
import { preflight, scheduleFrom } from "./start-checks.js";
import type { CameraPlan } from "./camera-plan.js";
import { SCHEDULE_LEAD_MS } from "./session-plan.js";
import { guardDisk } from "./disk-guard.js";
import { SessionError } from "./session-errors.js";
import { diskLowEvent, failedEvent, sessionEndedEvent } from "./session-events.js";
import { Listeners } from "../../platform/listeners.js";
import type { Clock } from "../../platform/clock.js";
import { ScheduledStart } from "./scheduled-start.js";
import { firstStart } from "./first-start.js";
import { BASELINE_CAPABILITIES } from "../ffmpeg/ffmpeg-capabilities.js";
import type { ControllerDeps } from "./controller-deps.js";
import type { SessionDeps, SessionResult, Session } from "./session-types.js";

export type { ControllerDeps, CreateSession } from "./controller-deps.js";

/**
 * The node's recording state machine: idle → scheduled → recording → stopping → idle (or error).
 * One session at a time; every transition publishes the retained state.
 */
export class SessionController {
  private status: NodeState["state"] = "idle";
  private session: string | null = null;
  private recording: Session | null = null;
  private scheduledAt: Date | null = null;
  private batchDuration: number;
  private duration: number | null = null;
  /** The camera of the session being started or recorded (camera-plan.ts). */
  private camera: CameraPlan | null = null;
  private lastError: string | null = null;
  /**
   * A start being prepared: its checks, then (immediate start) its first frame. A stop waits for it,
   * so the start is answered first and is not failed by the stop, whichever step it is at.
   */
  private preparing: Promise<unknown> | null = null;
  /** The pending scheduled start; stop() cancels it, so its aborted ffmpeg is no failure. */
  private schedule: ScheduledStart | null = null;
  private claimed = false;
  private readonly endedListeners: Listeners<[SessionResult, string | null]>;
  private readonly clock: Clock;

  constructor(
    private readonly config: Config,
    private readonly deps: ControllerDeps,
  ) {
    this.batchDuration = config.batch_duration;
    this.endedListeners = new Listeners(deps.log, "session ended");
    this.clock = deps.clock;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  /** Each session's end: its result and its name. */
  onSessionEnded(handler: (r: SessionResult, session: string | null) => unknown): () => void {
    return this.endedListeners.add(handler);
  }

  /** While a start waits for a silent network camera: until when (--camera-wait). */
  private cameraWaitUntil: Date | null = null;

  get state(): NodeState {
    const startedUs = this.recording?.startedAtUs ?? null;
    return {
      node: this.config.sbc_id,
      state: this.status,
      session: this.session,
      started_at: startedUs === null ? null : new Date(startedUs / 1000).toISOString(),
      scheduled_at: this.scheduledAt?.toISOString() ?? null,
      batches: this.recording?.batchCount ?? 0,
      batch_duration: this.batchDuration,
      duration: this.duration,
      camera: redactUrl(this.camera?.camera ?? this.config.camera),
      ...(this.cameraWaitUntil ? { camera_wait_until: this.cameraWaitUntil.toISOString() } : {}),
      ...(this.status === "error" && this.lastError ? { error: this.lastError } : {}),
      updated_at: this.now().toISOString(),
    };
  }

  private set(state: NodeState["state"]): void {
    this.status = state;
    this.deps.publishState(this.state);
  }

  async start(cmd: Omit<StartCommand, "cmd" | "id">): Promise<NodeState> {
    if (this.status === "scheduled" || this.status === "recording" || this.status === "stopping")
      throw new SessionError("already_active", `already ${this.status} session ${this.session}`);
    // Claimed before the first await: a second start arriving during the disk check must not pass too.
    if (this.claimed) throw new SessionError("already_active", "another start is being prepared");
    this.claimed = true;
    const prepared = this.prepare(cmd);
    this.preparing = prepared.catch(() => undefined);
    try {
      return await prepared;
    } finally {
      this.claimed = false;
      this.preparing = null;
    }
  }

  private async prepare(cmd: Omit<StartCommand, "cmd" | "id">): Promise<NodeState> {
    const at = scheduleFrom(cmd.at, this.now());
    const session = cmd.session ?? generatedSessionName(at ?? this.now());
    const dir = sessionDir(this.config.data_dir, session);
    // A network camera silent at first is waited for (--camera-wait): the state says until when.
    const onCameraWait = (): void => {
      this.cameraWaitUntil = new Date(this.now().getTime() + this.config.camera_wait * 1000 - 500);
      this.deps.publishState(this.state);
    };
    try {
      this.camera = await preflight(
        this.config,
        { ...this.deps, onCameraWait },
        { dir, session, requireSync: cmd.require_sync },
      );
    } finally {
      if (this.cameraWaitUntil) {
        this.cameraWaitUntil = null;
        this.deps.publishState(this.state);
      }
    }

    this.session = session;
    this.batchDuration = cmd.batch_duration ?? this.config.batch_duration;
    this.duration = cmd.duration ?? null;
    this.lastError = null;
    if (at) {
      this.scheduledAt = at;
      const schedule = (this.schedule = new ScheduledStart(at, this.clock));
      this.set("scheduled");
      schedule.arm(SCHEDULE_LEAD_MS, () => {
        this.begin(session, dir, at.getTime() * 1000).catch((err: unknown) => {
          if (schedule.cancelled) return;
          this.deps.log.error({ err }, "scheduled start failed");
          this.deps.publishEvent({
            type: "recorder_failed",
            level: "error",
            session,
            message: `scheduled session ${session} could not start`,
            reason: (err as Error).message,
          });
        });
      });
      return this.state;
    }
    return this.begin(session, dir);
  }

  private async begin(session: string, dir: string, alignToUs: number | null = null): Promise<NodeState> {
    const capabilities = (await this.deps.ffmpegCapabilities?.()) ?? BASELINE_CAPABILITIES;
    const ffmpeg = { path: this.deps.ffmpegPath, launcher: this.deps.launcher, capabilities };
    const plan = { session, dir, batchDuration: this.batchDuration, duration: this.duration, alignToUs };
    let recording: Session;
    try {
      ({ recording, camera: this.camera } = await firstStart({
        config: this.config,
        camera: this.camera!,
        log: this.deps.log,
        ...(this.deps.cameraMemory ? { cameraMemory: this.deps.cameraMemory } : {}),
        create: (camera) => {
          const r = this.deps.createSession(
            this.config,
            { ...plan, camera, latencyUs: this.deps.latencyUs?.() ?? 0 },
            ffmpeg,
            this.sessionDeps(session),
          );
          this.recording = r;
          // A scheduled session stays `scheduled` until its first frame at or after `at`.
          if (!alignToUs) this.set("recording");
          return r;
        },
      }));
    } catch (err) {
      this.recording = null;
      this.session = null;
      this.scheduledAt = null;
      this.set("idle");
      throw err;
    }
    this.scheduledAt = null;
    this.set("recording");
    this.deps.publishEvent({
      type: "session_started",
      level: "info",
      session,
      message: `recording ${session}`,
    });
    const watch = guardDisk(this.config, this.deps, (freeMb) => this.diskLow(recording, freeMb));
    recording.done
      .then(async (result) => {
        watch.stop();
        await this.remember(result);
        this.ended(recording, result);
      })
      .catch((err: unknown) => this.deps.log.error({ err }, "session end not handled"));
    return this.state;
  }

  /** What a session's recording is given: the node's ports, its events and announcements tagged with it. */
  private sessionDeps(session: string): SessionDeps {
    return {
      log: this.deps.log.child({ session }),
      syncStatus: this.deps.syncStatus,
      spawn: this.deps.spawn,
      childEnv: this.deps.childEnv,
      redact: this.deps.redact,
      clock: this.clock,
      event: (e) => this.deps.publishEvent({ ...e, session }),
      announce: async (batch) => {
        await this.deps.announce(batch);
        this.deps.publishState(this.state);
      },
    };
  }

  /** An MPEG-TS camera's keyframe interval, for its next start's probe (before the session is said ended). */
  private async remember(result: SessionResult): Promise<void> {
    const camera = this.camera;
    const mpegts = camera?.streamFormat === "mpegts" || camera?.camera.startsWith("udp:");
    if (!camera || !mpegts || !result.keyframeIntervalUs) return;
    await this.deps.cameraMemory?.remember(camera.camera, result.keyframeIntervalUs);
  }

  private ended(recording: Session, result: SessionResult): void {
    if (this.recording !== recording) return;
    const session = this.session;
    if (result.reason === "failed") {
      this.lastError = result.error ?? "ffmpeg failed";
      this.deps.publishEvent({ ...failedEvent(session, result.batches, this.lastError), session });
    }
    // A disk that filled under the node's own writes ends the session in error, its cause kept.
    if (result.reason === "disk_full" && result.error) this.lastError = result.error;
    const inError = result.reason === "failed" || this.lastError !== null;
    this.deps.publishEvent({
      ...sessionEndedEvent(session, result.reason, result.batches, inError),
      session,
    });
    this.set(inError ? "error" : "idle");
    this.endedListeners.emit(result, session);
  }

  /** A write of the node's own files failed for lack of space: the running session ends in error. */
  diskFull(what: string): void {
    const recording = this.recording;
    if (!recording || this.status !== "recording") return;
    this.set("stopping");
    recording.diskFull(what);
  }

  /** Free space fell below --stop-free-mb: end the session cleanly while the manifest can still be written. */
  private diskLow(recording: Session, freeMb: number): void {
    if (this.recording !== recording || this.status !== "recording") return;
    this.deps.log.error(
      { free_mb: freeMb, stop_free_mb: this.config.stop_free_mb },
      "disk low: stopping the session",
    );
    this.deps.publishEvent({
      ...diskLowEvent(freeMb, this.config.data_dir, this.config.stop_free_mb, this.session),
      session: this.session,
    });
    this.set("stopping");
    void recording.stop("disk_full");
  }

  /** Cancels a scheduled start, or finalizes the running session; resolves when all batches are out. */
  async stop(): Promise<NodeState> {
    // A stop during start-up takes effect once the start is answered: start ok, then stop ends it.
    if (this.preparing) await this.preparing;
    if (this.status === "scheduled") {
      this.schedule?.cancel();
      this.schedule = null;
      // Inside the lead time ffmpeg already runs, waiting for `at`: end it (no frame was kept).
      await this.recording?.stop();
      this.recording = null;
      this.scheduledAt = null;
      this.session = null;
      this.set("idle");
      return this.state;
    }
    const recording = this.recording;
    if (!recording || (this.status !== "recording" && this.status !== "stopping"))
      throw new SessionError("not_active", "no session is recording");
    const session = this.session;
    this.set("stopping");
    await recording.stop();
    // ended() has run by now (done resolved); report the finished session in the reply.
    return { ...this.state, session };
  }

  /** For shutdown: stop whatever runs, never throw. */
  async shutdown(): Promise<void> {
    if (this.status === "scheduled" || this.status === "recording" || this.status === "stopping") {
      await this.stop().catch((err: unknown) => this.deps.log.error({ err }, "stop at shutdown failed"));
    }
  }
}
