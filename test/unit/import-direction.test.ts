import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ESLint } from "eslint";
import { ROOT } from "../helpers/node.js";

// The layering of docs/architecture.md, as the linter enforces it: each case is one import written
// into a file of the named folder, linted with the project's own eslint.config.js.
const CASES: [string, string, boolean][] = [
  ["platform/x.ts", "../node/labx-node.js", false],
  ["platform/mqtt/x.ts", "../../node/session/recording.js", false],
  ["contract/x.ts", "../platform/log.js", false],
  ["broker/x.ts", "../node/labx-node.js", false],
  ["ctl/x.ts", "../monitor/fleet-monitor.js", false],
  ["monitor/x.ts", "../ctl/ctl.js", false],
  ["node/session/x.ts", "../../ctl/ctl.js", false],
  ["node/x.ts", "../platform/log.js", true],
  ["broker/x.ts", "../contract/names.js", true],
  ["ctl/x.ts", "../platform/mqtt/connection.js", true],
  ["platform/x.ts", "../contract/names.js", true],
  ["cli/labx.ts", "../ctl/ctl.js", true],
  ["node/x.ts", "../cli/labx.js", false],
];

describe("import direction (eslint no-restricted-imports, the project's config)", () => {
  it("refuses every wrong-way import and allows the right ones", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const [file, spec, allowed] of CASES) {
      const [result] = await eslint.lintText(`import { x } from "${spec}";\nexport const y = x;\n`, {
        filePath: path.join(ROOT, file),
      });
      const refused = result!.messages.some((m) => m.ruleId === "no-restricted-imports");
      assert.equal(
        !refused,
        allowed,
        `${file} importing ${spec}: ${allowed ? "allowed" : "refused"} expected`,
      );
    }
  });
});
