import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  appendJsonLine,
  JsonLinesFile,
  parseJsonLines,
  readJsonLines,
} from "../../platform/durable/jsonl.js";
import { readManifestLines } from "../../node/data/manifest.js";
import { tempDir } from "../helpers/node.js";

describe("durable JSON lines", () => {
  it("skips and counts torn or foreign lines instead of throwing", () => {
    const text = '{"a":1}\n\n{"a":2}\n[1]\n{"a":3,"b":\n';
    assert.deepEqual(parseJsonLines(text), { items: [{ a: 1 }, { a: 2 }], skipped: 2 });
    const isA = (v: unknown): v is { a: number } => typeof (v as { a?: unknown }).a === "number";
    assert.deepEqual(parseJsonLines('{"a":1}\n{"b":1}\n', isA), { items: [{ a: 1 }], skipped: 1 });
  });

  it("a missing file reads as empty", () => {
    assert.deepEqual(readJsonLines(path.join(tempDir(), "none.jsonl")), { items: [], skipped: 0 });
  });

  it("an append after a torn last line starts a line of its own: the torn record is lost, the new one is not", async () => {
    const file = path.join(tempDir(), "m.jsonl");
    writeFileSync(file, '{"seq":0,"file":"a"}\n{"seq":1,"fi');
    const f = new JsonLinesFile(file);
    await f.append({ seq: 1, file: "b" });
    await f.append({ seq: 2, file: "c" });
    await f.close();
    assert.deepEqual(
      readManifestLines(file).items.map((b) => b.seq),
      [0, 1, 2],
    );
    assert.equal(readManifestLines(file).skipped, 1);
    await appendJsonLine(file, { seq: 3, file: "d" });
    assert.equal(readFileSync(file, "utf8").split("\n").length, 6);
  });

  it("a failed append leaves the lines before it intact", async () => {
    const dir = tempDir();
    const file = path.join(dir, "j.jsonl");
    appendFileSync(file, '{"a":1}\n');
    const f = new JsonLinesFile(file);
    // Not serializable: the append fails before anything is written.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(f.append(cyclic));
    await f.append({ a: 2 });
    await f.close();
    assert.deepEqual(readJsonLines(file).items, [{ a: 1 }, { a: 2 }]);
  });
});
