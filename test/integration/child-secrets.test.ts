import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { startMosquitto } from "../helpers/mosquitto.js";
import { MqttRecorder } from "../helpers/mqtt-recorder.js";
import { runCli, tempDir } from "../helpers/node.js";
import { processesIn } from "../helpers/processes.js";

// The node's secrets stay the node's: ffmpeg and sensor programs get an environment built from an
// allowlist, and what a program prints is kept without them. Real node processes, real ffmpeg, a real
// Python program, real mosquitto.

const SECRETS = {
  LABX_BROKER_PASSWORD: "broker-Pw-8f3kQ",
  AWS_SECRET_ACCESS_KEY: "aws-Secret-2b9xZ",
  AWS_SESSION_TOKEN: "aws-Token-7c1vW",
};

/** A sensor program that prints its whole environment and arguments, then one batch, then exits. */
const PROGRAM = `
import json, os, sys, time
for k, v in sorted(os.environ.items()):
    print(f"ENV {k}={v}", flush=True)
print("ARGV " + " ".join(sys.argv[1:]), flush=True)
out = os.environ["LABX_OUT_DIR"]
start = float(os.environ["LABX_START_EPOCH_S"])
print(json.dumps({"started": start}), flush=True)
time.sleep(0.2)
with open(os.path.join(out, "b0.txt"), "w") as f:
    f.write("x\\n")
with open(os.path.join(out, "b0.times.csv"), "w") as f:
    f.write("start_epoch_s,end_epoch_s,samples\\n%.6f,%.6f,1\\n" % (start, start + 0.2))
print(json.dumps({"batch": "b0.txt", "times": "b0.times.csv", "last": True, "end": start + 0.2}), flush=True)
`;

describe("children get an allowlisted environment; kept output is redacted", () => {
  it("a sensor program sees neither the broker password nor cloud keys, and its kept output loses the password it printed", async () => {
    const broker = await startMosquitto();
    const dir = tempDir();
    const script = path.join(dir, "envdump.py");
    writeFileSync(script, PROGRAM);
    try {
      const node = runCli(
        [
          ...["node", "--broker-url", broker.url, "--broker-username", "u", "--sbc-id", "ENV1"],
          ...[
            "--data-dir",
            dir,
            "--disable-sync",
            "--source",
            "command",
            "--session",
            "envs",
            "--duration",
            "3",
          ],
          ...[
            "--source-command",
            JSON.stringify(["python3", script, "--token", SECRETS.LABX_BROKER_PASSWORD]),
          ],
          ...["--child-env", "LABX_TEST_NAMED"],
        ],
        { ...SECRETS, LABX_TEST_NAMED: "named-value", LABX_TEST_UNNAMED: "unnamed-value" },
      );
      const exit = await node.exited;
      assert.equal(exit.code, 0, node.stderr());
      const kept = readFileSync(path.join(dir, "envs", "source-output.txt"), "utf8");
      assert.match(kept, /^ENV PATH=/m, "the program got PATH");
      assert.match(kept, /^ENV LABX_SESSION=envs$/m, "and its session variables");
      assert.match(kept, /^ENV LABX_TEST_NAMED=named-value$/m, "and what --child-env names");
      assert.doesNotMatch(kept, /LABX_TEST_UNNAMED/, "but nothing else of the node's environment");
      for (const [name, value] of Object.entries(SECRETS)) {
        assert.doesNotMatch(kept, new RegExp(`^ENV ${name}=`, "m"), `${name} reached the program`);
        assert.ok(!kept.includes(value), `${name}'s value is in the kept output`);
      }
      // It printed the password it was given as an argument: kept as ***.
      assert.match(kept, /^ARGV --token \*\*\*$/m);
    } finally {
      await broker.stop();
    }
  });

  it("ffmpeg recording a camera runs with the allowlist, not the node's environment", async () => {
    const broker = await startMosquitto();
    const dir = tempDir();
    const rec = await MqttRecorder.connect(broker.url, ["labx/ENV2/#"]);
    const node = runCli(
      [
        ...["node", "--broker-url", broker.url, "--broker-username", "u", "--sbc-id", "ENV2"],
        ...[
          "--data-dir",
          dir,
          "--disable-sync",
          "--session",
          "cam",
          "--duration",
          "30",
          "--batch-duration",
          "1",
        ],
      ],
      SECRETS,
    );
    try {
      await rec.waitFor(() => rec.on("labx/ENV2/batch")[0], 30_000, "a batch");
      const pids = processesIn(path.join(dir, "cam"), "ffmpeg");
      assert.ok(pids.length > 0, "ffmpeg runs in the session folder");
      for (const pid of pids) {
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
        const names = environ.map((e) => e.split("=")[0]);
        assert.ok(names.includes("PATH"), names.join(","));
        for (const [name, value] of Object.entries(SECRETS)) {
          assert.ok(!names.includes(name), `${name} is in ffmpeg's environment`);
          assert.ok(!environ.some((e) => e.includes(value)));
        }
      }
      assert.ok(readdirSync(path.join(dir, "cam")).some((f) => f.endsWith(".mkv")));
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
      await rec.close();
      await broker.stop();
    }
  });

  it("a batch the program names that is a symbolic link (to a file outside) is refused, not hashed, listed or announced", async () => {
    const broker = await startMosquitto();
    const dir = tempDir();
    const secretFile = path.join(dir, "outside-secret.txt");
    writeFileSync(secretFile, "not for the store\n");
    const script = path.join(dir, "linker.py");
    writeFileSync(
      script,
      `
import json, os, time
out = os.environ["LABX_OUT_DIR"]
start = float(os.environ["LABX_START_EPOCH_S"])
print(json.dumps({"started": start}), flush=True)
os.symlink(${JSON.stringify(secretFile)}, os.path.join(out, "b0.txt"))
with open(os.path.join(out, "b0.times.csv"), "w") as f:
    f.write("start_epoch_s,end_epoch_s,samples\\n%.6f,%.6f,1\\n" % (start, start + 0.2))
print(json.dumps({"batch": "b0.txt", "times": "b0.times.csv", "last": True, "end": start + 0.2}), flush=True)
`,
    );
    const rec = await MqttRecorder.connect(broker.url, ["labx/LNK/#"]);
    try {
      const node = runCli([
        ...["node", "--broker-url", broker.url, "--sbc-id", "LNK", "--data-dir", dir, "--disable-sync"],
        ...["--source", "command", "--session", "links", "--duration", "3"],
        ...["--source-command", JSON.stringify(["python3", script])],
      ]);
      // The program ended well; the refusal is the event's to say (the files stay in incoming/).
      assert.equal((await node.exited).code, 0, node.stderr());
      const events = rec.jsonOn<{ type: string; message: string }>("labx/LNK/event");
      const refused = events.find((e) => e.type === "recorder_failed");
      assert.ok(refused, JSON.stringify(events));
      assert.match(refused.message, /not a regular file/);
      assert.equal(rec.on("labx/LNK/batch").length, 0, "nothing announced");
      const manifest = path.join(dir, "links", "manifest.jsonl");
      assert.ok(!existsSync(manifest) || readFileSync(manifest, "utf8").trim() === "", "nothing listed");
    } finally {
      await rec.close();
      await broker.stop();
    }
  });
});
