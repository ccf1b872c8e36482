import type { BatchReady } from "../../contract/generated/payloads.js";
import type { MqttRecorder } from "./mqtt-recorder.js";

/**
 * Batches as a subscriber saw them, QoS 1 style: a duplicate (same session + seq, which the
 * at-least-once guarantee allows) is dropped and counted, the first arrival kept, order preserved.
 */
export function uniqueBatches(
  rec: MqttRecorder,
  node: string,
): { batches: BatchReady[]; duplicates: number } {
  const seen = new Set<string>();
  const batches: BatchReady[] = [];
  let duplicates = 0;
  for (const b of rec.jsonOn<BatchReady>(`labx/${node}/batch`)) {
    const key = `${b.session}/${b.seq}`;
    if (seen.has(key)) duplicates++;
    else {
      seen.add(key);
      batches.push(b);
    }
  }
  return { batches, duplicates };
}
