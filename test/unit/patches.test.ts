import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { applyPatch, filesOf } from "../../scripts/patches.mjs";
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

  it("an insertion, whose old lines stay as context, is applied once and then recognised", () => {
    const insert = "--- a/f.js\n+++ b/f.js\n@@ -1,2 +1,3 @@\n one\n+inserted\n two\n";
    const once = applyPatch("one\ntwo\n", insert);
    assert.deepEqual(once, { text: "one\ninserted\ntwo\n", applied: 1 });
    assert.deepEqual(applyPatch(once.text, insert), { text: once.text, applied: 0 });
  });

  it("a patch of several files is cut into its files", () => {
    const two = `${diff}--- a/lib/g.js\n+++ b/lib/g.js\n@@ -1 +1 @@\n-a\n+b\n`;
    assert.deepEqual(
      filesOf(two).map((f) => f.target),
      ["f.js", "lib/g.js"],
    );
    assert.throws(() => filesOf("@@ -1 +1 @@\n-a\n+b\n"), /no --- a/);
  });

  it("every kept patch is applied to the installed package", () => {
    const folder = path.join(ROOT, "patches/aedes+2.0.0-beta.1");
    const patches = readdirSync(folder).filter((f) => f.endsWith(".patch"));
    assert.deepEqual(patches.sort(), [
      "disconnect-after-connack.patch",
      "flow-control.patch",
      "redelivery-dup.patch",
      "resume-session-queue.patch",
    ]);
    for (const file of patches)
      for (const { target, diff: part } of filesOf(readFileSync(path.join(folder, file), "utf8"))) {
        const text = readFileSync(path.join(ROOT, "node_modules/aedes", target), "utf8");
        assert.equal(applyPatch(text, part).applied, 0, `${file} ${target}: npm ci applied it (postinstall)`);
      }
  });
});
