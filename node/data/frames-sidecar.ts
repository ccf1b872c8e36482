import { writeSynced } from "../../platform/durable/durable-write.js";
import { isoMicros } from "./paths.js";

export const SIDECAR_HEADER = "frame,batch_frame,pts_s,epoch_s,time_utc";
/** With a latency correction: epoch_s and time_utc are corrected, raw_epoch_s is the time as stamped. */
export const SIDECAR_HEADER_CORRECTED = `${SIDECAR_HEADER},raw_epoch_s`;

/** `<batch>.mkv` → `<batch>.frames.csv` (any batch's extension: a sensor program's `.csv`, `.npz`…). */
export function sidecarName(batchFile: string): string {
  return batchFile.replace(/\.[A-Za-z0-9]{1,8}$/, "") + ".frames.csv";
}

/**
 * Pure: one row per frame. `frame` counts from the session's first frame, `batch_frame` from this
 * batch's; `pts_s` is the frame's time in the batch file (from its first frame); `epoch_s` and
 * `time_utc` are its wall-clock capture time, to the microsecond. With a latency correction (µs, the
 * camera's delay: docs/time.md) those two are the corrected time and `raw_epoch_s` the time as stamped.
 */
export function renderSidecar(
  firstFrameIndex: number,
  anchorUs: number,
  framePtsUs: readonly number[],
  latencyUs = 0,
): string {
  const first = framePtsUs[0] ?? 0;
  const sec = (us: number): string => (us / 1e6).toFixed(6);
  const rows = framePtsUs.map((pts, i) => {
    const raw = anchorUs + pts;
    const us = raw - latencyUs;
    const row = `${firstFrameIndex + i},${i},${((pts - first) / 1e6).toFixed(6)},${sec(us)},${isoMicros(us)}`;
    return latencyUs ? `${row},${sec(raw)}` : row;
  });
  return [latencyUs ? SIDECAR_HEADER_CORRECTED : SIDECAR_HEADER, ...rows, ""].join("\n");
}

/** Writes and fsyncs the sidecar, so it is on disk before the manifest names its batch. */
export function writeSidecar(file: string, text: string): Promise<void> {
  return writeSynced(file, text);
}
