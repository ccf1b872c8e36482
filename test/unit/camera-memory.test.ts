import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { createValidators } from "../../contract/schemas.js";
import {
  CAMERA_MEMORY_FILE,
  cameraKey,
  fileCameraMemory,
  probeFor,
  SHORT_PROBE_US,
} from "../../node/camera/camera-memory.js";
import { FakeClock } from "../helpers/fake-clock.js";

const validators = createValidators();
const log = pino({ level: "silent" });
const url = "udp://user:secret@10.0.0.9:5000";

describe("camera memory (node/camera/camera-memory.ts)", () => {
  it("remembers an interval under the hashed URL without credentials, and forgets it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "labx-memory-"));
    try {
      const memory = fileCameraMemory(dir, {
        validators,
        log,
        clock: new FakeClock(Date.parse("2026-12-07T00:00:00Z")),
      });
      assert.equal(await memory.keyframeIntervalUs(url), null);
      await memory.remember(url, 500_123.4);
      await memory.remember("udp://10.0.0.8:5000", 3_000_000);
      assert.equal(await memory.keyframeIntervalUs(url), 500_123);
      const file = path.join(dir, CAMERA_MEMORY_FILE);
      const text = readFileSync(file, "utf8");
      assert.ok(!text.includes("secret") && !text.includes("10.0.0.9"), "no URL written down");
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      assert.equal(
        cameraKey(url),
        cameraKey("udp://admin:other@10.0.0.9:5000"),
        "the credentials are not in the key",
      );
      await memory.forget(url);
      assert.equal(await memory.keyframeIntervalUs(url), null);
      assert.equal(await memory.keyframeIntervalUs("udp://10.0.0.8:5000"), 3_000_000, "the others are kept");
      await memory.forget(url); // already forgotten: nothing to do
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("ignores a file that does not match its schema, and replaces it on the next write", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "labx-memory-"));
    try {
      const file = path.join(dir, CAMERA_MEMORY_FILE);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ version: 1, cameras: { x: { keyframe_interval_us: "fast" } } }));
      const memory = fileCameraMemory(dir, { validators, log, clock: new FakeClock() });
      assert.equal(await memory.keyframeIntervalUs(url), null);
      await memory.remember(url, 1_000_000);
      assert.ok(validators.cameraMemory(JSON.parse(readFileSync(file, "utf8"))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("probes a camera for its interval plus a margin, short below a second, fully beyond ffmpeg's own", () => {
    assert.equal(probeFor(null), null);
    assert.equal(probeFor(500_000), SHORT_PROBE_US);
    assert.equal(probeFor(3_000_000), 3_150_000);
    assert.equal(probeFor(4_900_000), null);
  });
});
