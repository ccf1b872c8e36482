import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../platform/config/config.js";
import { tempDir } from "../helpers/node.js";

describe("config", () => {
  it("has the seed's defaults", () => {
    const c = loadConfig([], {});
    assert.equal(c.sbc_id, "SBC001");
    assert.equal(c.batch_duration, 10);
    assert.equal(c.duration, null);
    assert.equal(c.camera, "synthetic");
    assert.deepEqual(c.groups, []);
  });

  it("reads flags, LABX_ environment variables and a config file; flags beat env beats file", () => {
    const file = path.join(tempDir(), "labx.json");
    writeFileSync(file, JSON.stringify({ sbc_id: "FILE", batch_duration: 5, groups: ["g1"], framerate: 15 }));
    const c = loadConfig(["--config", file, "--sbc-id", "FLAG"], {
      LABX_SBC_ID: "ENV",
      LABX_BATCH_DURATION: "7",
    });
    assert.equal(c.sbc_id, "FLAG");
    assert.equal(c.batch_duration, 7);
    assert.deepEqual(c.groups, ["g1"]);
    assert.equal(c.framerate, 15);
  });

  it("parses comma-separated groups, numbers and booleans", () => {
    const c = loadConfig(["--groups", "a,b", "--duration", "2.5", "--embedded-broker", "--disable-sync"], {});
    assert.deepEqual(c.groups, ["a", "b"]);
    assert.equal(c.duration, 2.5);
    assert.equal(c.embedded_broker, true);
    assert.equal(c.disable_sync, true);
  });

  it("accepts the old collector's spellings", () => {
    const c = loadConfig(
      ["--sbc_id", "OLD", "--batch_duration", "3", "--data_directory", "/tmp/x", "--disable_data_sync"],
      {},
    );
    assert.deepEqual([c.sbc_id, c.batch_duration, c.data_dir, c.disable_sync], ["OLD", 3, "/tmp/x", true]);
  });

  it("is deeply frozen", () => {
    const c = loadConfig(["--groups", "a"], {});
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.groups));
    assert.throws(() => ((c as { sbc_id: string }).sbc_id = "x"));
  });

  for (const [argv, env, pattern] of [
    [["--sbc-id", "all"], {}, /sbc_id: "all" is reserved/],
    [["--sbc-id", "a/b"], {}, /sbc_id: must be 1-64 characters/],
    [["--groups", "x,all"], {}, /groups: "all" is reserved/],
    [["--sbc-id", "fleet"], {}, /sbc_id: "fleet" is reserved/],
    [["--groups", "fleet"], {}, /groups: "fleet" is reserved/],
    [[], { LABX_SBC_ID: "fleet" }, /sbc_id: "fleet" is reserved/],
    [["--groups", "SBC001"], {}, /groups: must not contain the node's own id/],
    [["--batch-duration", "0"], {}, /batch_duration: must be a number of seconds from 1 to 3600/],
    [["--duration", "-1"], {}, /duration: must be a positive number/],
    [["--camera", "file:///etc/passwd"], {}, /camera: must be/],
    [["--broker-port", "99999"], {}, /broker_port/],
    [["--framerate", "x"], {}, /framerate: must be a number/],
    [["--codec", "vp9"], {}, /codec/],
    [["--bogus"], {}, /unknown option --bogus/],
    [[], { LABX_BATCH_DURATION: "abc" }, /batch_duration/],
  ] as const) {
    it(`refuses ${JSON.stringify(argv)} ${JSON.stringify(env)} with one line naming the key`, () => {
      assert.throws(
        () => loadConfig(argv, env),
        (err: unknown) =>
          err instanceof ConfigError && pattern.test(err.message) && !err.message.includes("\n"),
      );
    });
  }

  it("refuses unknown keys and broken JSON in the config file", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "a.json"), JSON.stringify({ sbc_idd: "x" }));
    assert.throws(() => loadConfig(["--config", path.join(dir, "a.json")], {}), /sbc_idd/);
    writeFileSync(path.join(dir, "b.json"), "{");
    assert.throws(() => loadConfig(["--config", path.join(dir, "b.json")], {}), /config file/);
  });
});
