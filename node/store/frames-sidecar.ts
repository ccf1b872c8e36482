import { writeSynced } from "../../platform/durable/durable-write.js";
import { isoMicros } from "./paths.js";

export const SIDECAR_HEADER = "frame,batch_frame,pts_s,epoch_s,time_utc";

/** `<batch>.mkv` → `<batch>.frames.csv`. */
export function sidecarName(batchFile: string): string {
  return batchFile.replace(/\.mkv$/, ".frames.csv");
}

/**
 * Pure: one row per frame. `frame` counts from the session's first frame, `batch_frame` from this
 * batch's; `pts_s` is the frame's time in the batch file (from its first frame); `epoch_s` and
 * `time_utc` are its wall-clock capture time, to the microsecond.
 */
export function renderSidecar(
  firstFrameIndex: number,
  anchorUs: number,
  framePtsUs: readonly number[],
): string {
  const first = framePtsUs[0] ?? 0;
  const rows = framePtsUs.map((pts, i) => {
    const us = anchorUs + pts;
    return `${firstFrameIndex + i},${i},${((pts - first) / 1e6).toFixed(6)},${(us / 1e6).toFixed(6)},${isoMicros(us)}`;
  });
  return [SIDECAR_HEADER, ...rows, ""].join("\n");
}

/** Writes and fsyncs the sidecar, so it is on disk before the manifest names its batch. */
export function writeSidecar(file: string, text: string): Promise<void> {
  return writeSynced(file, text);
}
