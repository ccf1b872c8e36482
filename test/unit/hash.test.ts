import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { hashFile } from "../../node/data/hash.js";

describe("hashFile", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "labx-hash-"));
  // Sizes around the 256 KiB read buffer: empty, one byte, exactly one chunk, chunk + 1, several chunks.
  for (const size of [0, 1, 256 * 1024, 256 * 1024 + 1, 3 * 256 * 1024 + 12345]) {
    it(`gives the sha256 and size of a ${size}-byte file`, async () => {
      const data = randomBytes(size);
      const file = path.join(dir, `f${size}`);
      writeFileSync(file, data);
      const got = await hashFile(file);
      assert.deepEqual(got, { sha256: createHash("sha256").update(data).digest("hex"), bytes: size });
    });
  }
  it("rejects a missing file", async () => {
    await assert.rejects(hashFile(path.join(dir, "missing")), { code: "ENOENT" });
  });
});
