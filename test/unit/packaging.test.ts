// The image and the Pi install build from copies of the source folders: each must copy every folder
// the build compiles (tsconfig.build.json), and the dashboard's page. A folder left out broke the
// image's build once (align/, then ui/) while its tests skipped for want of an image.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "../helpers/node.js";

const read = (f: string): string => readFileSync(path.join(ROOT, f), "utf8");
const built = (JSON.parse(read("tsconfig.build.json")) as { include: string[] }).include;

test("docker/Dockerfile copies every folder the build compiles, and the dashboard's page into the image", () => {
  const dockerfile = read("docker/Dockerfile");
  for (const dir of built)
    assert.match(dockerfile, new RegExp(`^COPY ${dir} \\./${dir}$`, "m"), `COPY ${dir}`);
  assert.match(dockerfile, /^COPY --from=build \/src\/ui\/public \.\/ui\/public$/m);
  assert.match(dockerfile, /^COPY --from=build \/src\/schemas \.\/schemas$/m);
});

test("deploy/pi/install-pi.sh copies every folder the build compiles", () => {
  const script = read("deploy/pi/install-pi.sh");
  for (const dir of [...built, "schemas"])
    assert.ok(script.includes(`"$src/${dir}"`), `install-pi.sh copies ${dir}/`);
});

test("every launcher of `labx node` for a lab passes the V8 flags of cli/node-flags.ts", async () => {
  const { NODE_V8_FLAGS } = await import("../../cli/node-flags.js");
  const flags = NODE_V8_FLAGS.join(" ");
  assert.match(
    read("deploy/pi/labx.service"),
    new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/labx/dist/cli/labx\\.js node `, "m"),
  );
  assert.match(
    read("scripts/start.sh"),
    new RegExp(`^exec node ${flags} "\\$\\{wasm_flag\\[@\\]\\}" dist/cli/labx\\.js node `, "m"),
  );
  const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start!;
  assert.ok(start.startsWith(`node ${flags} dist/cli/labx.js node `), start);
});

test("the Node.js running this test starts with labx's V8 flags, silently, and the shell launchers add the same", async () => {
  // Run on each supported Node.js line by scripts/test-platforms.sh: Node.js 24 refuses a flag 20 and 22 want.
  const { nodeV8Flags, NODE_V8_FLAGS } = await import("../../cli/node-flags.js");
  const flags = nodeV8Flags(process.versions.node);
  const r = spawnSync(process.execPath, [...flags, "-e", "process.stdout.write(typeof WebAssembly)"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "", "no warning at start");
  assert.equal(r.stdout, "undefined", "WebAssembly is off");
  const shell = spawnSync(
    "bash",
    [
      "-c",
      '. scripts/lib/packages.sh && . scripts/lib/node-runtime.sh && node_wasm_flag "$0"',
      process.execPath,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(shell.status, 0, shell.stderr);
  assert.deepEqual(
    shell.stdout.split("\n").filter(Boolean),
    flags.slice(NODE_V8_FLAGS.length),
    "node_wasm_flag",
  );
});
