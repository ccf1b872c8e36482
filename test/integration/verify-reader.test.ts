// What labx verify reads a time code through: a camera filming a screen sees it small, at an angle,
// blurred, noisy, at low contrast and heavily compressed. Each degradation is made by real ffmpeg
// filters from a code drawn as the page draws it, and read back as verify reads frames (gray, ZXing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { formatTimecode, parseTimecode } from "../../contract/timecode.js";
import { createQrReader } from "../../align/verify/qr-reader.js";
import { codeIn } from "../../align/verify/frame-codes.js";
import { timecodeImage } from "../helpers/timecode-camera.js";

const W = 1280;
const H = 720;

/** A gray frame through ffmpeg: `filters`, then JPEG at quality `q` (2 best … 31 worst), decoded again. */
function degrade(gray: Buffer, filters: string, q: number): Buffer {
  const jpeg = execFileSync(
    "ffmpeg",
    ["-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", `${W}x${H}`, "-i", "-"].concat([
      "-vf",
      filters,
      "-frames:v",
      "1",
      "-c:v",
      "mjpeg",
      "-q:v",
      String(q),
      "-f",
      "image2pipe",
      "-",
    ]),
    { input: gray, maxBuffer: 64 << 20 },
  );
  return execFileSync(
    "ffmpeg",
    ["-v", "error", "-f", "mjpeg", "-i", "-", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
    { input: jpeg, maxBuffer: 64 << 20 },
  );
}

test("a time code filmed badly is still read: small, tilted, blurred, noisy, dim, compressed", async () => {
  const reader = await createQrReader();
  const us = 1_796_198_086_028_376;
  // 5 px per module: the code fills 165 px of a 720 px frame (a screen across a room).
  const frame = timecodeImage(us, W, H, 5);
  const cases: [string, string, number][] = [
    ["as drawn", "null", 2],
    [
      "tilted (perspective)",
      "perspective=x0=60:y0=30:x1=W-20:y1=0:x2=0:y2=H:x3=W-90:y3=H-50:sense=destination",
      4,
    ],
    ["blurred", "gblur=sigma=1.4", 4],
    ["noisy", "noise=alls=30:allf=t", 4],
    ["dim, low contrast", "eq=contrast=0.35:brightness=0.15", 4],
    ["compressed hard", "null", 24],
    [
      "all at once",
      "perspective=x0=40:y0=20:x1=W:y1=0:x2=0:y2=H:x3=W-60:y3=H-30:sense=destination,gblur=sigma=1,noise=alls=20:allf=t,eq=contrast=0.5",
      12,
    ],
  ];
  for (const [name, filters, q] of cases) {
    const gray = degrade(frame, filters, q);
    const texts = await reader.readGray(gray, W, H);
    assert.equal(codeIn(texts), us, `${name}: read ${JSON.stringify(texts)}`);
  }
  // Nothing to read: no code, not a guess.
  assert.deepEqual(await reader.readGray(Buffer.alloc(W * H, 128), W, H), []);
});

test("a frame's code is the latest of the page's slots; codes a display apart make it ambiguous; other QR codes are not time codes", () => {
  const t = 1_796_198_086_028_376;
  // ?slots=3: the codes of the last three refreshes; the latest is the one that counts.
  assert.equal(codeIn([formatTimecode(t - 16_667), formatTimecode(t), formatTimecode(t - 33_333)]), t);
  // Two displays (or two pages) in view, a second apart: no answer rather than a wrong one.
  assert.equal(codeIn([formatTimecode(t), formatTimecode(t + 1_000_000)]), null);
  assert.equal(codeIn([formatTimecode(7), formatTimecode(7)]), 7, "the same code twice is one");
  assert.equal(codeIn(["https://example.org", formatTimecode(9)]), 9);
  assert.equal(codeIn(["https://example.org"]), null);
  assert.equal(parseTimecode("labx-tc:9"), 9);
});
