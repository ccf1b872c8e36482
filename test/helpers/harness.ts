import type { Config } from "../../platform/config/config.js";
import { startAedes } from "./aedes.js";
import type { Broker } from "./mosquitto.js";
import { MqttRecorder } from "./mqtt-recorder.js";
import { startNode, type RunningNode } from "./node.js";

export interface NodeHarness {
  broker: Broker;
  rec: MqttRecorder;
  run: RunningNode;
}

/** One node on its own aedes broker with a recorder on labx/#, torn down whatever the test does. */
export async function withNode(
  overrides: Partial<Config>,
  test: (h: NodeHarness) => Promise<void>,
): Promise<void> {
  const broker = await startAedes();
  const rec = await MqttRecorder.connect(broker.url, ["labx/#"]);
  let run: RunningNode | undefined;
  try {
    run = await startNode({ broker_url: broker.url, ...overrides });
    await test({ broker, rec, run });
  } finally {
    await run?.stop();
    await rec.close();
    await broker.stop();
  }
}
