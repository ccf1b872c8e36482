import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { FileTail } from "../../node/process/file-tail.js";
import { tempDir } from "../helpers/node.js";
import { systemClock } from "../../platform/clock.js";

describe("FileTail", () => {
  it("reads whole lines, the last partial one at stop", () => {
    const file = path.join(tempDir(), "t.txt");
    writeFileSync(file, "a\nb");
    const lines: string[] = [];
    const tail = new FileTail(file, (l) => lines.push(l), systemClock());
    tail.start(1000);
    tail.drain();
    assert.deepEqual(lines, ["a"]);
    appendFileSync(file, "c\n");
    tail.stop();
    assert.deepEqual(lines, ["a", "bc"]);
  });

  it("a start() after stop() opens nothing and leaves no timer (ffmpeg exited right after its first frame)", () => {
    const file = path.join(tempDir(), "t.txt");
    writeFileSync(file, "");
    const tail = new FileTail(file, () => {}, systemClock());
    tail.start(20);
    tail.stop();
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    tail.start(500);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length, before);
    tail.stop();
  });
});
