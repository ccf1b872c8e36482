import { createHash } from "node:crypto";
import { mkdir, readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { CameraMemory as CameraMemoryFile } from "../../contract/generated/payloads.js";
import type { Validators } from "../../contract/schemas.js";
import { writeSynced } from "../../platform/durable/durable-write.js";
import { redactUrl } from "../../platform/secrets.js";
import type { Clock } from "../../platform/clock.js";

// What a node remembers of its MPEG-TS network cameras between sessions (schemas/camera-memory.schema.json):
// each one's longest keyframe interval, so that the next start probes it for that long plus a margin
// instead of ffmpeg's 5 s (a camera joined between keyframes shows its SPS only at the next one).

export const CAMERA_MEMORY_FILE = path.join(".labx", "cameras.json");

/** Probed beyond the remembered keyframe interval: the camera's jitter and ffmpeg's start-up. */
export const PROBE_MARGIN_US = 150_000;
/**
 * The probe of a camera whose keyframes come at least once a second. Measured with ffmpeg 5.1 on a
 * 30 fps camera (2026-12-07): ffmpeg's MPEG-TS probe keeps reading until the stream's first keyframe
 * shows its parameters, for about 1.2 s, whatever a shorter -analyzeduration says (keyframes 0.5 s
 * apart: 10 of 10 starts with 200 ms, answered in ~0.55 s instead of ~1.1 s with 650 ms; keyframes
 * 3 s apart: 3 of 5 failed with 200 ms and with 1 s, none with 3.15 s). A probe that fails all the
 * same falls back to the full one (session-controller.ts).
 */
export const SHORT_PROBE_US = 200_000;
/** ffmpeg's own probe of MPEG-TS (its default analyzeduration): never more than that. */
export const FULL_PROBE_US = 5_000_000;

/** Pure: the key of a camera, its URL without credentials, hashed (no URL is written down). */
export function cameraKey(url: string): string {
  return createHash("sha256").update(redactUrl(url)).digest("hex");
}

/** Pure: how long ffmpeg probes a camera with that keyframe interval, or null for its full probe. */
export function probeFor(keyframeIntervalUs: number | null): number | null {
  if (keyframeIntervalUs === null) return null;
  if (keyframeIntervalUs <= 1_000_000) return SHORT_PROBE_US;
  const us = keyframeIntervalUs + PROBE_MARGIN_US;
  return us < FULL_PROBE_US ? us : null;
}

export interface CameraMemory {
  /** The camera's keyframe interval in its last session, or null. */
  keyframeIntervalUs(url: string): Promise<number | null>;
  remember(url: string, keyframeIntervalUs: number): Promise<void>;
  /** The camera did not keep its remembered interval (a short probe failed): probed fully from now on. */
  forget(url: string): Promise<void>;
}

/**
 * The memory in `<dataDir>/.labx/cameras.json`: read each time, validated, written whole or not at all;
 * neither a read nor a write ever throws (a memory that cannot be used is a full probe, not a failure).
 */
export function fileCameraMemory(
  dataDir: string,
  deps: { validators: Validators; log: Logger; clock: Clock },
): CameraMemory {
  const file = path.join(dataDir, CAMERA_MEMORY_FILE);
  const read = async (): Promise<CameraMemoryFile> => {
    const empty: CameraMemoryFile = { version: 1, cameras: {} };
    let data: unknown;
    try {
      data = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        deps.log.warn({ file, err: (err as Error).message }, "camera memory not readable: ignored");
      return empty;
    }
    if (deps.validators.cameraMemory(data)) return data;
    deps.log.warn({ file }, "camera memory does not match schemas/camera-memory.schema.json: ignored");
    return empty;
  };
  // A hint for the next start, never a reason to fail this one: a write that fails is logged.
  const write = async (memory: CameraMemoryFile): Promise<void> => {
    try {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.tmp`;
      await writeSynced(tmp, `${JSON.stringify(memory, null, 2)}\n`);
      await rename(tmp, file);
    } catch (err) {
      deps.log.warn({ file, err: (err as Error).message }, "camera memory not written");
    }
  };
  return {
    keyframeIntervalUs: async (url) => (await read()).cameras[cameraKey(url)]?.keyframe_interval_us ?? null,
    remember: async (url, us) => {
      const memory = await read();
      memory.cameras[cameraKey(url)] = {
        keyframe_interval_us: Math.min(60_000_000, Math.max(1, Math.round(us))),
        updated_at: new Date(deps.clock.now()).toISOString(),
      };
      await write(memory);
    },
    forget: async (url) => {
      const memory = await read();
      const key = cameraKey(url);
      if (!(key in memory.cameras)) return;
      delete memory.cameras[key];
      await write(memory);
    },
  };
}
