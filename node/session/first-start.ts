import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { CameraMemory } from "../camera/camera-memory.js";
import { exactPlan, probeHint, type CameraPlan } from "./camera-plan.js";
import { SessionError } from "./session-errors.js";
import { CameraUnavailableError, InexactTimesError, type Session } from "./session-types.js";

/**
 * After a first start that failed, the plan to start once more with, or null: the failure stands.
 * A camera probed briefly for its remembered keyframe interval that showed none is probed fully (and
 * its interval forgotten); ffmpeg's own pick that stamps MJPEG on a 1/25 s clock is replaced by the
 * exact demuxer. Pure.
 */
export function retryPlan(
  config: Pick<Config, "stream_format">,
  plan: CameraPlan,
  err: unknown,
): { plan: CameraPlan; why: string; fields: Record<string, unknown>; forget: boolean } | null {
  if (err instanceof CameraUnavailableError && plan.probeUs)
    return {
      plan: { ...plan, probeUs: null },
      why: "short probe failed: probing the camera fully",
      fields: { probe_us: plan.probeUs },
      forget: true,
    };
  const exact = err instanceof InexactTimesError ? exactPlan(config, plan, err) : null;
  if (!exact) return null;
  return {
    plan: exact,
    why: "coarse clock: reading the camera as raw MJPEG",
    fields: { demuxer: (err as InexactTimesError).demuxer },
    forget: false,
  };
}

/**
 * Starts a session's recording until its first frame, once more on a better plan where retryPlan
 * has one. Resolves with the recording and the plan it runs on; a failure that stands is the
 * SessionError a start is refused with.
 */
export async function firstStart(o: {
  config: Pick<Config, "stream_format">;
  camera: CameraPlan;
  /** Makes the recording for a plan; told before it starts (a stop may come meanwhile). */
  create: (camera: CameraPlan) => Session;
  log: Logger;
  cameraMemory?: CameraMemory;
}): Promise<{ recording: Session; camera: CameraPlan }> {
  let camera = o.camera;
  for (;;) {
    const recording = o.create(camera);
    try {
      await recording.start();
      return { recording, camera };
    } catch (err) {
      const retry = retryPlan(o.config, camera, err);
      if (!retry) {
        if (err instanceof InexactTimesError) throw new SessionError("inexact_times", err.message);
        if (err instanceof CameraUnavailableError)
          throw new SessionError("camera_unavailable", err.message + probeHint(camera));
        throw err;
      }
      o.log.warn(retry.fields, retry.why);
      // Its remembered interval is wrong: forgotten, so the next session need not fail first.
      if (retry.forget) await o.cameraMemory?.forget(camera.camera);
      camera = retry.plan;
    }
  }
}
