import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { resolveFfmpeg } from "../../node/ffmpeg/ffmpeg-path.js";
import { tempDir } from "../helpers/node.js";

describe("resolveFfmpeg", () => {
  const dir = tempDir();
  const fake = path.join(dir, "ffmpeg");
  writeFileSync(fake, "#!/bin/sh\n");
  chmodSync(fake, 0o755);

  it("an explicit path wins, and must be executable", () => {
    assert.equal(resolveFfmpeg({ configured: fake, staticPath: () => "/x", envPath: "" }), fake);
    assert.throws(
      () => resolveFfmpeg({ configured: path.join(dir, "nope"), envPath: dir }),
      /not an executable/,
    );
  });
  it("then the system's ffmpeg on PATH, before ffmpeg-static; ffmpeg-static where PATH has none", () => {
    const other = tempDir();
    const bundled = path.join(other, "ffmpeg-static-build");
    writeFileSync(bundled, "#!/bin/sh\n");
    chmodSync(bundled, 0o755);
    assert.equal(resolveFfmpeg({ configured: null, staticPath: () => bundled, envPath: dir }), fake);
    assert.equal(
      resolveFfmpeg({ configured: null, staticPath: () => bundled, envPath: `/nonexistent:${other}` }),
      bundled,
      "PATH without an ffmpeg: ffmpeg-static",
    );
    assert.equal(
      resolveFfmpeg({ configured: null, staticPath: () => null, envPath: `/nonexistent:${dir}` }),
      fake,
    );
    assert.equal(
      resolveFfmpeg({ configured: null, staticPath: () => "/missing/ffmpeg", envPath: dir }),
      fake,
    );
  });
  it("says what to do when there is none", () => {
    assert.throws(
      () => resolveFfmpeg({ configured: null, staticPath: () => null, envPath: "/nonexistent" }),
      /apt-get install ffmpeg/,
    );
  });
});
