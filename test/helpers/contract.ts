import assert from "node:assert/strict";
import { createValidators, describeErrors } from "../../contract/schemas.js";
import { isJpeg, readPreviewMeta } from "../../contract/preview.js";
import type { Message } from "./mqtt-recorder.js";

const validators = createValidators();

/** Every message a node published under base/node/ must match its topic's schema. */
export function assertContract(messages: Message[], base: string, node: string): number {
  let checked = 0;
  for (const m of messages) {
    const leaf = m.topic.startsWith(`${base}/${node}/`) ? m.topic.slice(`${base}/${node}/`.length) : null;
    if (leaf === null || leaf === "cmd") continue;
    if (leaf === "availability") {
      assert.ok(m.text === "online" || m.text === "offline", `availability ${m.text}`);
    } else if (leaf === "preview") {
      // A JPEG whose comment segment holds the metadata (contract/preview.ts).
      assert.ok(isJpeg(m.bytes), `${m.topic}: not a JPEG`);
      const meta = readPreviewMeta(m.bytes);
      assert.ok(validators.preview(meta), `${m.topic}: ${describeErrors(validators.preview.errors)}`);
    } else {
      const v = {
        state: validators.state,
        reply: validators.reply,
        batch: validators.batch,
        event: validators.event,
        clock: validators.clock,
      }[leaf];
      assert.ok(v, `unexpected topic ${m.topic}`);
      assert.ok(v(m.json()), `${m.topic} ${m.text}: ${describeErrors(v.errors)}`);
    }
    checked++;
  }
  return checked;
}
