import assert from "node:assert/strict";
import type { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { resolveLauncher } from "../../node/ffmpeg/launcher.js";

describe("resolveLauncher", () => {
  it("uses setpriv --pdeathsig TERM where it works (it does on this machine)", () => {
    assert.deepEqual(resolveLauncher(), { prefix: ["setpriv", "--pdeathsig", "TERM"], warning: null });
  });
  it("falls back to a direct spawn, with a warning, where setpriv is missing", () => {
    const missing = (() => ({ status: null, error: new Error("ENOENT") })) as unknown as typeof spawnSync;
    const r = resolveLauncher(missing);
    assert.deepEqual(r.prefix, []);
    assert.match(r.warning!, /outlive/);
  });
});
