import type { Config } from "../../platform/config/config.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import { cameraOptions, SCHEDULE_LEAD_MS, type SessionPlan } from "../session/session-plan.js";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "../session/restart-policy.js";
import type { SessionDeps, CameraOptions, Session } from "../session/session-types.js";
import { SessionSupervisor } from "../session/session-supervisor.js";
import { CameraSource } from "./camera-source.js";
import { ProgramSource, type ProgramSourceOptions } from "./program-source.js";

/** A camera's session: ffmpeg's runs under the session's supervisor. */
export function cameraSession(opts: CameraOptions, deps: SessionDeps): Session {
  return new SessionSupervisor(opts, deps, (session) => new CameraSource(opts, deps, session));
}

/** A sensor program's session (`--source command`): its runs under the session's supervisor. */
export function programSession(
  opts: ProgramSourceOptions & { restartPolicy?: RestartPolicy },
  deps: SessionDeps,
): Session {
  return new SessionSupervisor(opts, deps, (session) => new ProgramSource(opts, deps, session));
}

/** A session's recording, as the configuration says: the camera through ffmpeg, or the sensor program. */
export function createSession(
  config: Config,
  plan: SessionPlan,
  ffmpeg: { path: string; launcher: readonly string[]; capabilities: FfmpegCapabilities },
  deps: SessionDeps,
): Session {
  if (config.source !== "command") return cameraSession(cameraOptions(config, plan, ffmpeg), deps);
  return programSession(
    {
      node: config.sbc_id,
      session: plan.session,
      sessionDir: plan.dir,
      command: config.source_command,
      cwd: process.cwd(),
      launcher: ffmpeg.launcher,
      batchDuration: plan.batchDuration,
      duration: plan.duration,
      alignToUs: plan.alignToUs,
      // A scheduled start waits for the program's first sample at `at`, up to the lead time later.
      startTimeoutMs: config.start_timeout * 1000 + (plan.alignToUs ? SCHEDULE_LEAD_MS : 0),
      stopTimeoutMs: config.stop_timeout * 1000,
      restartPolicy: { ...DEFAULT_RESTART_POLICY, maxFailures: config.restart_attempts },
      // The program's kept output loses every secret the configuration holds (a program may print its arguments).
      redact: deps.redact,
    },
    deps,
  );
}
