import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ESLint } from "eslint";
import { ROOT, tempDir } from "../helpers/node.js";

// The layering of docs/architecture.md, as the linter enforces it: each case is one import written
// into a file of the named folder, linted with the project's own eslint.config.js.
const CASES: [string, string, boolean][] = [
  ["platform/x.ts", "../node/labx-node.js", false],
  ["platform/mqtt/x.ts", "../../node/session/session-controller.js", false],
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

/** The rules a planted text breaks, linted as `file` with the project's config. */
async function rulesBroken(eslint: ESLint, file: string, text: string, root = ROOT): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe("lint keeps the architecture (the project's eslint.config.js, one planted violation each)", () => {
  it("import direction: refuses every wrong-way import and allows the right ones", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const [file, spec, allowed] of CASES) {
      const broken = await rulesBroken(eslint, file, `import { x } from "${spec}";\nexport const y = x;\n`);
      assert.equal(
        !broken.includes("no-restricted-imports"),
        allowed,
        `${file} importing ${spec}: ${allowed ? "allowed" : "refused"} expected`,
      );
    }
  });

  it("import direction holds for type imports, dynamic import() and type queries too", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const wrong = "../node/labx-node.js";
    assert.deepEqual(
      await rulesBroken(
        eslint,
        "platform/x.ts",
        `import type { LabxNode } from "${wrong}";\nexport type T = LabxNode;\n`,
      ),
      ["no-restricted-imports"],
    );
    assert.deepEqual(
      await rulesBroken(eslint, "platform/x.ts", `export const load = () => import("${wrong}");\n`),
      ["no-restricted-syntax"],
    );
    assert.deepEqual(
      await rulesBroken(eslint, "platform/x.ts", `export type T = typeof import("${wrong}");\n`),
      ["no-restricted-syntax"],
    );
    // The same three the right way round are fine.
    const right = "../platform/log.js";
    assert.deepEqual(
      await rulesBroken(eslint, "node/x.ts", `export const load = () => import("${right}");\n`),
      [],
    );
    assert.deepEqual(
      await rulesBroken(eslint, "node/x.ts", `export type T = typeof import("${right}");\n`),
      [],
    );
  });

  it("contract/ does no I/O: no fs, net or child_process, statically or by import()", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const mod of ["node:fs", "fs/promises", "node:net", "node:child_process"])
      assert.deepEqual(
        await rulesBroken(eslint, "contract/x.ts", `import * as m from "${mod}";\nexport const y = m;\n`),
        ["no-restricted-imports"],
        mod,
      );
    assert.deepEqual(
      await rulesBroken(eslint, "contract/x.ts", `export const m = () => import("node:fs");\n`),
      ["no-restricted-syntax"],
    );
    // platform/ may.
    assert.deepEqual(
      await rulesBroken(eslint, "platform/x.ts", `import * as m from "node:fs";\nexport const y = m;\n`),
      [],
    );
  });

  it("process.env is read in platform/config/ only", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const text = "export const home = process.env.HOME;\n";
    for (const file of ["node/x.ts", "cli/x.ts", "platform/x.ts", "ui/x.ts"])
      assert.deepEqual(await rulesBroken(eslint, file, text), ["no-restricted-properties"], file);
    assert.deepEqual(await rulesBroken(eslint, "platform/config/x.ts", text), []);
  });

  it("time is the Clock's: no Date.now() or global timer outside platform/clock.ts", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    assert.deepEqual(await rulesBroken(eslint, "node/x.ts", "export const t = Date.now();\n"), [
      "no-restricted-properties",
    ]);
    assert.deepEqual(await rulesBroken(eslint, "platform/config/x.ts", "export const t = Date.now();\n"), [
      "no-restricted-properties",
    ]);
    assert.deepEqual(await rulesBroken(eslint, "ui/x.ts", "export const t = setTimeout(() => {}, 1);\n"), [
      "no-restricted-globals",
    ]);
    assert.deepEqual(
      await rulesBroken(
        eslint,
        "platform/clock.ts",
        "export const t = () => setTimeout(() => Date.now(), 1);\n",
      ),
      [],
    );
  });

  it("no import cycle: two modules that import each other are refused, one way is not", async () => {
    // A cycle is found on the files as they are on disk: a copy of the config, two real modules.
    const dir = tempDir();
    symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    copyFileSync(path.join(ROOT, "eslint.config.js"), path.join(dir, "eslint.config.js"));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", strict: true }, include: ["node"] }),
    );
    for (const d of ["session", "source"]) mkdirSync(path.join(dir, "node", d), { recursive: true });
    const a = 'import { b } from "../source/b.js";\nexport const a = (): unknown => b;\n';
    writeFileSync(path.join(dir, "node/session/a.ts"), a);
    writeFileSync(path.join(dir, "node/source/b.ts"), "export const b = 1;\n");
    const eslint = new ESLint({ cwd: dir });
    assert.deepEqual(await rulesBroken(eslint, "node/session/a.ts", a, dir), [], "one way: no cycle");
    writeFileSync(
      path.join(dir, "node/source/b.ts"),
      'import { a } from "../session/a.js";\nexport const b = (): unknown => a;\n',
    );
    assert.deepEqual(await rulesBroken(eslint, "node/session/a.ts", a, dir), ["import-x/no-cycle"]);
  });
});
