import assert from "node:assert/strict";
import { hostname } from "node:os";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../platform/log.js";

describe("createLogger", () => {
  it("puts pid, hostname and the bindings on every line, serializes err with its stack, strips secrets", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger("info", { destination, secrets: ["hunter22"], bindings: { node: "N1" } });
    log.child({ module: "m" }).error({ err: new Error("login hunter22 failed") }, "it failed");
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(o.node, "N1");
    assert.equal(o.hostname, hostname());
    assert.equal(o.module, "m");
    const err = o.err as { message: string; stack: string; type: string };
    assert.equal(err.type, "Error");
    assert.match(err.stack, /login \*\*\* failed\n\s+at /);
    assert.ok(!lines[0]!.includes("hunter22"));
  });
});
