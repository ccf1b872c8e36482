import type { NodeEvent } from "../../contract/generated/payloads.js";
import { startAedes } from "./aedes.js";
import type { Broker } from "./mosquitto.js";
import { MqttRecorder } from "./mqtt-recorder.js";
import { startNode, type RunningNode } from "./node.js";
import { startTimecodeCamera, type TimecodeCamera } from "./timecode-camera-process.js";

// Ground-truth cameras (timecode-camera.ts), one real node recording each over TCP, an aedes broker
// and a recorder of everything on it: what labx verify is tested and shown on.

export interface TimecodeRig {
  broker: Broker;
  rec: MqttRecorder;
  cameras: TimecodeCamera[];
  nodes: RunningNode[];
  /** Records `session` on every node from one `at` (returned, epoch ms), until each says it ended. */
  record(session: string, seconds: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startTimecodeRig(
  specs: readonly { node: string; latencyMs: number; jitterMs: number }[],
  o: { fps: number; batchDuration: number },
): Promise<TimecodeRig> {
  const broker = await startAedes();
  const cameras: TimecodeCamera[] = [];
  const nodes: RunningNode[] = [];
  let rec: MqttRecorder | undefined;
  const stop = async (): Promise<void> => {
    await rec?.close();
    for (const n of nodes) await n.stop();
    for (const c of cameras) c.stop();
    await broker.stop();
  };
  try {
    for (const s of specs) cameras.push(await startTimecodeCamera(o.fps, s.latencyMs, s.jitterMs));
    rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
    for (const [i, s] of specs.entries())
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: s.node,
          camera: cameras[i]!.url,
          stream_format: "mjpeg",
          batch_duration: o.batchDuration,
          disable_sync: true,
          preview_interval: 0,
        }),
      );
  } catch (err) {
    await stop();
    throw err;
  }
  const r = rec;
  return {
    broker,
    rec: r,
    cameras,
    nodes,
    stop,
    async record(session, seconds) {
      const atMs = Math.round(Date.now() / 1000) * 1000 + 3000;
      const at = new Date(atMs).toISOString();
      for (const s of specs) {
        const reply = await r.command("labx", s.node, s.node, {
          cmd: "start",
          session,
          duration: seconds,
          at,
        });
        if (reply.ok !== true) throw new Error(`${s.node} refused the start: ${JSON.stringify(reply)}`);
      }
      for (const s of specs)
        await r.waitFor(
          () =>
            r
              .jsonOn<NodeEvent>(`labx/${s.node}/event`)
              .find((e) => e.type === "session_ended" && e.session === session),
          seconds * 1000 + 40_000,
          `${s.node} ends ${session}`,
        );
      return atMs;
    },
  };
}
