import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { checkProgram } from "../../node/doctor/doctor-cli.js";
import { tempDir } from "../helpers/node.js";

describe("labx doctor: the sensor program of --source command (checkProgram)", () => {
  it("finds it on PATH, or at its path from the node's working directory; says what is missing", () => {
    const dir = tempDir();
    const bin = path.join(dir, "bin");
    const script = path.join(dir, "radar.sh");
    writeFileSync(path.join(dir, "not-exec.sh"), "#!/bin/sh\n");
    writeFileSync(script, "#!/bin/sh\n");
    chmodSync(script, 0o755);
    assert.deepEqual(checkProgram(["radar.sh", "--rate", "10"], `${bin}:${dir}`, "/"), {
      check: "sensor program",
      verdict: "ok",
      detail: `${script} (["radar.sh","--rate","10"])`,
    });
    assert.equal(checkProgram(["./radar.sh"], "", dir).verdict, "ok");
    assert.deepEqual(checkProgram(["imu"], bin, dir), {
      check: "sensor program",
      verdict: "fail",
      detail: "imu is not on PATH",
    });
    assert.equal(checkProgram(["./not-exec.sh"], "", dir).detail, "./not-exec.sh is not an executable file");
    assert.equal(checkProgram(["./"], "", dir).verdict, "fail", "a folder is no program");
  });
});
