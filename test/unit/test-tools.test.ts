import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { exitedEarly, MissingProgramError, requireProgram } from "../helpers/tools.js";

// The suite's own guard against a machine without a tool (test/helpers/tools.ts).
describe("a program the tests start", () => {
  it("is found on PATH or in the system's folders, or said missing with its Debian package at once", () => {
    assert.match(requireProgram("sh", "dash"), /\/sh$/);
    assert.throws(
      () => requireProgram("labx-no-such-program", "labx-no-such-package"),
      (err: unknown) =>
        err instanceof MissingProgramError &&
        /labx-no-such-program is not installed: apt-get install labx-no-such-package \(\.\/scripts\/test\.sh/.test(
          err.message,
        ),
    );
  });
  it("that exits before it is ready fails the wait with what it said", async () => {
    const child = spawn("sh", ["-c", "echo 'no module named gi' >&2; exit 3"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let said = "";
    child.stderr.on("data", (d: Buffer) => (said += d.toString()));
    const never = new Promise<void>(() => {});
    await assert.rejects(Promise.race([never, exitedEarly(child, "the camera", () => said)]), {
      message: "the camera exited (3) before it was ready: no module named gi",
    });
  });
  it("that cannot be spawned fails the wait, not the process", async () => {
    const child = spawn("/nonexistent/labx-server");
    await assert.rejects(
      exitedEarly(child, "the server"),
      /the server could not start: spawn \/nonexistent\/labx-server ENOENT/,
    );
  });
});
