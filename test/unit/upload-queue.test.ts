import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BatchReady } from "../../contract/generated/payloads.js";
import type { PendingFile } from "../../node/upload/upload-backlog.js";
import { UploadQueue } from "../../node/upload/upload-queue.js";

const file = (session: string, name: string, bytes: number, end?: string): PendingFile => ({
  session,
  name,
  path: `/data/${session}/${name}`,
  bytes,
  sha256: null,
  batch: end ? ({ end } as BatchReady) : null,
});

describe("the uploader's queue in memory (node/upload/upload-queue.ts)", () => {
  it("keeps files in the order told; a manifest told again moves behind what it now lists", () => {
    const q = new UploadQueue([
      file("s1", "b0.mkv", 100, "2026-01-01T00:00:01Z"),
      file("s1", "manifest.jsonl", 10),
    ]);
    q.add([file("s1", "b1.mkv", 200, "2026-01-01T00:00:02Z"), file("s1", "manifest.jsonl", 20)]);
    assert.deepEqual(
      q.backlog().files.map((f) => f.name),
      ["b0.mkv", "b1.mkv", "manifest.jsonl"],
    );
    assert.equal(q.backlog().bytes, 320, "the manifest counted once, at its latest size");
    assert.equal(q.backlog().oldest, "2026-01-01T00:00:01Z");
  });

  it("a file is done only as the copy uploaded: a manifest grown meanwhile stays queued", () => {
    const first = file("s1", "manifest.jsonl", 10);
    const q = new UploadQueue([first]);
    assert.equal(q.first(), first);
    q.add([file("s1", "manifest.jsonl", 20)]);
    q.done(first);
    assert.equal(q.length, 1);
    assert.equal(q.first()!.bytes, 20);
    q.done(q.first()!);
    assert.equal(q.length, 0);
    assert.equal(q.first(), undefined);
  });

  it("names the sessions still owed to the store (retention keeps them)", () => {
    const q = new UploadQueue([file("s1", "a.mkv", 1), file("s2", "b.mkv", 1)]);
    assert.deepEqual([...q.sessions].sort(), ["s1", "s2"]);
    q.done(q.first()!);
    assert.deepEqual([...q.sessions], ["s2"]);
  });
});
