import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeNodeMessage } from "../../contract/node-message.js";
import { embedPreviewMeta } from "../../contract/preview.js";
import { createValidators } from "../../contract/schemas.js";

const validators = createValidators();
const decode = (topic: string, payload: string | Buffer) =>
  decodeNodeMessage("labx", topic, typeof payload === "string" ? Buffer.from(payload) : payload, validators);
const state = {
  node: "N1",
  state: "idle",
  session: null,
  started_at: null,
  batches: 0,
  updated_at: "2026-11-25T10:00:00.000Z",
};
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0, 0]);

describe("decodeNodeMessage (contract/node-message.ts): one decoding for ctl, the dashboard and the monitor", () => {
  it("takes a node's message apart: its node, its leaf, its value checked against the leaf's schema", () => {
    assert.deepEqual(decode("labx/N1/state", JSON.stringify(state)), {
      node: "N1",
      leaf: "state",
      value: state,
    });
    assert.deepEqual(decode("labx/N1/availability", "online"), {
      node: "N1",
      leaf: "availability",
      value: "online",
    });
  });

  it("an empty payload clears a retained leaf, and is nothing on any other", () => {
    for (const leaf of ["availability", "state", "clock", "preview"])
      assert.deepEqual(decode(`labx/N1/${leaf}`, ""), { node: "N1", leaf, value: null }, leaf);
    for (const leaf of ["batch", "event", "reply"]) assert.equal(decode(`labx/N1/${leaf}`, ""), null, leaf);
  });

  it("refuses what a foreign publisher could send: another base, an unknown leaf, bad JSON, a payload off its schema", () => {
    assert.equal(decode("other/N1/state", JSON.stringify(state)), null);
    assert.equal(decode("labx/N1/status", JSON.stringify(state)), null);
    assert.equal(decode("labx/fleet/clock", JSON.stringify(state)), null, "the fleet's topic is no node's");
    assert.equal(decode("labx/N1/state", "{not json"), null);
    assert.equal(decode("labx/N1/state", JSON.stringify({ ...state, state: "dancing" })), null);
    assert.equal(decode("labx/N1/availability", "maybe"), null);
  });

  it("a preview is the JPEG's embedded metadata, and only when it names the node that published it", () => {
    const meta = {
      node: "N1",
      session: null,
      taken_at: "2026-11-25T10:00:00.000Z",
      source: "scaled" as const,
      width: 1,
      height: 1,
    };
    const valid = validators.preview(meta);
    assert.ok(valid, JSON.stringify(validators.preview.errors));
    const image = embedPreviewMeta(jpeg, meta);
    assert.deepEqual(decode("labx/N1/preview", image), { node: "N1", leaf: "preview", value: meta });
    assert.equal(decode("labx/N2/preview", image), null, "N2 cannot pass N1's preview as its own");
  });
});
