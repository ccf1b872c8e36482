import type { Config } from "../../platform/config/config.js";
import { CommandRecording } from "../source/command-recording.js";
import { Recording } from "./recording.js";
import { recordingOptions, SCHEDULE_LEAD_MS, type SessionPlan } from "./recording-options.js";
import { DEFAULT_RESTART_POLICY } from "./restart-policy.js";
import type { RecordingDeps, SessionRecording } from "./recording-types.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import { configSecrets, redactor } from "../../platform/secrets.js";

/** A session's recording: the camera through ffmpeg, or the sensor program of --source command. */
export function createRecording(
  config: Config,
  plan: SessionPlan,
  ffmpeg: { path: string; launcher: readonly string[]; capabilities: FfmpegCapabilities },
  deps: RecordingDeps,
): SessionRecording {
  if (config.source === "command")
    return new CommandRecording(
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
        redact: redactor(configSecrets(config)),
      },
      deps,
    );
  return new Recording(recordingOptions(config, plan, ffmpeg), deps);
}
