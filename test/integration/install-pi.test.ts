import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../platform/config/config.js";
import { ROOT, tempDir } from "../helpers/node.js";
import { NO_WASM_FLAG, nodeV8Flags } from "../../cli/node-flags.js";

const has = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const install = (root: string, args: string[]) =>
  spawnSync("bash", [path.join(ROOT, "deploy", "pi", "install-pi.sh"), "--root", root, ...args], {
    encoding: "utf8",
  });

const shellScripts = [
  ".ci/run",
  ...["scripts", "scripts/lib", "scripts/platforms", "scripts/interop", "docker", "deploy/pi"].flatMap(
    (dir) =>
      readdirSync(path.join(ROOT, dir))
        .filter((f) => f.endsWith(".sh"))
        .map((f) => `${dir}/${f}`),
  ),
];

describe("on a Pi: systemd unit and install-pi.sh", () => {
  it(
    "every shell script passes shellcheck",
    { skip: has("shellcheck") ? false : "shellcheck is not installed" },
    () => {
      assert.ok(shellScripts.includes("deploy/pi/install-pi.sh"));
      const r = spawnSync("shellcheck", ["-x", ...shellScripts], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    },
  );

  it(
    "the unit passes systemd-analyze verify without a warning",
    { skip: has("systemd-analyze") ? false : "systemd-analyze is not installed" },
    () => {
      // The unit as the installer writes it: ExecStart is the Node.js it found (not always /usr/bin/node).
      const root = tempDir();
      mkdirSync(path.join(root, "etc", "chrony"), { recursive: true });
      writeFileSync(path.join(root, "etc", "chrony", "chrony.conf"), "makestep 1 3\n");
      const installed = install(root, ["--sbc-id", "PI1"]);
      assert.equal(installed.status, 0, installed.stderr);
      // --man=no: whether chrony's man page is installed is the machine's business, not the unit's.
      const unitFile = path.join(root, "etc/systemd/system/labx.service");
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", unitFile], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      // verify exits 0 on values it ignores (a misspelt Restart=), so its warnings count too.
      assert.equal(r.stderr.trim(), "");
      const unit = readFileSync(path.join(ROOT, "deploy", "pi", "labx.service"), "utf8");
      for (const line of [
        "Restart=on-failure",
        "User=labx",
        "StateDirectory=labx",
        "--config /etc/labx/config.json",
      ])
        assert.ok(unit.includes(line), line);
    },
  );

  it("writes chrony sources that chronyd parses (local GPS/PPS preferred, public fallback), the config and the unit", () => {
    const root = tempDir();
    mkdirSync(path.join(root, "etc", "chrony"), { recursive: true });
    writeFileSync(
      path.join(root, "etc", "chrony", "chrony.conf"),
      "pool 2.debian.pool.ntp.org iburst\nmakestep 1 3\n",
    );
    const r = install(root, [
      "--sbc-id",
      "PI7",
      "--groups",
      "row1,row2",
      "--local-ntp",
      "192.168.68.126",
      "--local-ntp",
      "gps2.lab",
      "--ntp",
      "ntp.example.org",
      "--camera",
      'rtsp://user:p"w$(x)@cam/1',
      "--data-dir",
      "/mnt/ssd/labx",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const sources = readFileSync(path.join(root, "etc/chrony/sources.d/labx.sources"), "utf8");
    const servers = sources.split("\n").filter((l) => l.startsWith("server"));
    assert.deepEqual(servers, [
      "server 192.168.68.126 iburst prefer minpoll 4 maxpoll 4",
      "server gps2.lab iburst prefer minpoll 4 maxpoll 4",
      "server ntp.example.org iburst minpoll 4 maxpoll 6",
    ]);
    const chronyConf = readFileSync(path.join(root, "etc/chrony/chrony.conf"), "utf8");
    assert.match(chronyConf, /^# disabled by labx: pool /m);
    assert.match(chronyConf, /^sourcedir \/etc\/chrony\/sources\.d$/m);
    assert.match(chronyConf, /^makestep 1 3$/m);
    if (has("chronyd")) {
      const conf = path.join(root, "check.conf");
      writeFileSync(conf, `include ${path.join(root, "etc/chrony/sources.d/labx.sources")}\n`);
      const p = spawnSync("chronyd", ["-p", "-f", conf], { encoding: "utf8" });
      assert.equal(p.status, 0, `chronyd could not parse the sources: ${p.stderr}`);
    }
    const config = loadConfig(["--config", path.join(root, "etc/labx/config.json")], {});
    assert.equal(config.sbc_id, "PI7");
    assert.deepEqual(config.groups, ["row1", "row2"]);
    assert.equal(
      config.camera,
      'rtsp://user:p"w$(x)@cam/1',
      "the value arrives as given, never run by a shell",
    );
    assert.equal(config.data_dir, "/mnt/ssd/labx");
    // The camera's password is in config.json: no other user may read it.
    for (const f of ["config.json", "labx.env"])
      assert.equal(statSync(path.join(root, "etc/labx", f)).mode & 0o777, 0o600, f);
    // The unit runs the Node.js the installer found (Debian's, or the LTS it installed in /usr/local/bin).
    const nodeOnPath = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
    const unit = readFileSync(path.join(root, "etc/systemd/system/labx.service"), "utf8");
    // With the V8 flags that Node.js takes (cli/node-flags.ts: 24 refuses one that 20 and 22 want).
    const version = spawnSync(nodeOnPath, ["--version"], { encoding: "utf8" }).stdout.trim();
    const flags = nodeV8Flags(version).join(" ");
    assert.match(
      unit,
      new RegExp(`^ExecStart=${nodeOnPath} ${flags} /opt/labx/dist/cli/labx\\.js node `, "m"),
    );
    assert.equal(
      unit.replace(nodeOnPath, "/usr/bin/node").replace(` ${NO_WASM_FLAG} `, " "),
      readFileSync(path.join(ROOT, "deploy/pi/labx.service"), "utf8"),
    );
    assert.equal(
      readFileSync(path.join(root, "etc/systemd/system/labx.service.d/data-dir.conf"), "utf8"),
      "[Service]\nReadWritePaths=/mnt/ssd/labx\n",
    );
    for (const f of ["package.json", "cli/labx.ts", "schemas/state.schema.json"])
      assert.ok(existsSync(path.join(root, "opt/labx", f)), f);

    const again = install(root, ["--sbc-id", "OTHER"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /keeping .*config\.json/);
    assert.equal(loadConfig(["--config", path.join(root, "etc/labx/config.json")], {}).sbc_id, "PI7");
  });

  it("refuses bad values before touching anything", () => {
    const root = tempDir();
    for (const args of [
      ["--sbc-id", "a;rm -rf /"],
      ["--sbc-id", "all"],
      ["--groups", "ok,bad/one"],
      ["--local-ntp", "x y"],
      ["--ntp", "$(reboot)"],
      ["--data-dir", "relative/dir"],
      ["--bogus"],
    ]) {
      const r = install(root, args);
      assert.notEqual(r.status, 0, args.join(" "));
      assert.match(r.stderr, /install-pi: /, args.join(" "));
    }
    assert.deepEqual(readdirSync(root), []);
  });
});
