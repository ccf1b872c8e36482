import mqtt, { type MqttClient } from "mqtt";

// A deliberately broken minimal node for `labx conformance`: a foreign program that speaks part of the
// contract. What it gets right: a reply to status (JSON or the bare word) with its id echoed, and
// INVALID_PAYLOAD for a field of the wrong type. Its faults:
//   - availability `online` not retained; a retained state without its required fields; no clock;
//   - no reply to a payload that is not JSON; `ok: true` to everything else (an unknown command, a
//     stop while idle, an `at` in the past, a second start);
//   - not subscribed to `all`; no MQTT 5 response topic;
//   - a start with `at` starts at once (recording, never scheduled, never idle again);
//   - batch events numbered from 1, without the contract's fields, none marked last.

/** The checks it passes; every other fails, but those that need --group or --data-dir (skipped). */
export const BROKEN_PASSES = ["status: ok, its id echoed", "bare word: status", "bad field: INVALID_PAYLOAD"];

export async function startBrokenNode(url: string, id: string): Promise<{ stop(): Promise<void> }> {
  const client: MqttClient = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `broken-${id}` });
  const reply = (body: Record<string, unknown>): void => {
    client.publish(`labx/${id}/reply`, JSON.stringify({ node: id, ...body }), { qos: 1 });
  };
  const state = {
    node: id,
    state: "idle",
    session: null as string | null,
    started_at: null,
    scheduled_at: null,
    batches: 0,
    batch_duration: 2,
    duration: null,
    camera: "radar",
    updated_at: new Date().toISOString(),
  };
  let timer: NodeJS.Timeout | null = null;
  client.on("message", (_topic, payload) => {
    const text = payload.toString();
    let cmd: Record<string, unknown>;
    if (["start", "stop", "status"].includes(text)) cmd = { cmd: text };
    else {
      try {
        cmd = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return; // fault: no INVALID_JSON reply
      }
    }
    const id_ = (cmd.id as string | undefined) ?? null;
    if (typeof cmd.duration === "string")
      return reply({ id: id_, cmd: cmd.cmd, ok: false, code: "INVALID_PAYLOAD", message: "duration" });
    if (cmd.cmd === "start" && typeof cmd.session === "string") {
      state.state = "recording";
      reply({ id: id_, cmd: "start", ok: true, session: cmd.session, state });
      let seq = 1; // fault: numbered from 1
      const session = cmd.session;
      timer = setInterval(() => {
        const now = new Date();
        client.publish(
          `labx/${id}/batch`,
          JSON.stringify({
            node: id,
            session,
            seq: seq++,
            file: `${session}/x.bin`,
            start: now.toISOString(),
            end: now.toISOString(),
          }),
          { qos: 1 },
        );
      }, 500);
      return;
    }
    // fault: anything else, known or not, is answered ok
    reply({ id: id_, cmd: cmd.cmd, ok: true, session: null, state });
  });
  await client.subscribeAsync([`labx/${id}/cmd`], { qos: 1 }); // fault: not labx/all/cmd
  await client.publishAsync(`labx/${id}/availability`, "online", { qos: 1, retain: false });
  await client.publishAsync(`labx/${id}/state`, JSON.stringify({ node: id, state: "idle" }), {
    qos: 1,
    retain: true,
  });
  return {
    stop: async () => {
      if (timer) clearInterval(timer);
      // Leave no retained message behind on a shared broker.
      await client.publishAsync(`labx/${id}/state`, "", { qos: 1, retain: true });
      await client.endAsync();
    },
  };
}
