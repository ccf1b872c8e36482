import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { applyPatch } from "../../scripts/patches.mjs";
import { ROOT } from "../helpers/node.js";

const diff = `--- a/f.js
+++ b/f.js
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
`;

describe("dependency patches (scripts/patches.mjs, run by npm ci)", () => {
  it("applies a hunk found once, recognises an applied one, refuses one found nowhere or twice", () => {
    const once = applyPatch("zero\none\ntwo\nthree\n", diff);
    assert.deepEqual(once, { text: "zero\none\nTWO\nthree\n", applied: 1 });
    assert.deepEqual(applyPatch(once.text, diff), { text: once.text, applied: 0 });
    assert.throws(() => applyPatch("one\nthree\n", diff), /found 0 times/);
    assert.throws(() => applyPatch("one\ntwo\nthree\none\ntwo\nthree\n", diff), /found 2 times/);
  });

  it("every kept patch is applied to the installed package", () => {
    const patch = readFileSync(
      path.join(ROOT, "patches/aedes+2.0.0-beta.1/resume-session-queue.patch"),
      "utf8",
    );
    const target = readFileSync(path.join(ROOT, "node_modules/aedes/lib/handlers/connect.js"), "utf8");
    assert.equal(applyPatch(target, patch).applied, 0, "npm ci applied it (postinstall)");
  });
});
