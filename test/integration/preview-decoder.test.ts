// The preview decoder against real ffmpeg: each answer is the frame it was given, however many frames
// ffmpeg holds back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { pino } from "pino";
import { PreviewDecoder } from "../../node/preview/preview-decoder.js";
import { jpegSize } from "../../contract/preview.js";
import { FFMPEG } from "../helpers/node.js";
import { testJpeg } from "../helpers/media.js";
import { systemClock } from "../../platform/clock.js";
import { spawn } from "node:child_process";

const log = pino({ level: "silent" });

/** An H.264 keyframe with its parameter sets in front, as the recorder's tee slave keeps it. */
function keyframe(source: string): Buffer {
  return execFileSync(FFMPEG, [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `${source}=size=1280x720:rate=30`],
    ...["-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "h264", "pipe:1"],
  ]);
}

// A black frame and a busy one: their previews differ in size by far more than the few bytes by which
// two decodes of one frame can (the first, made while ffmpeg settles its colour range, differs slightly).
const BLACK = "color"; // lavfi's color source is black by default
for (const [input, frames, lowres] of [
  ["jpeg", [testJpeg("1920x1080", BLACK), testJpeg("1920x1080", "testsrc")], 2],
  ["h264", [keyframe(BLACK), keyframe("testsrc")], 0],
] as const) {
  test(`${input}: every preview is of the frame just given, never one held back from before`, async () => {
    const d = new PreviewDecoder({
      ffmpegPath: FFMPEG,
      input,
      maxWidth: 480,
      lowres,
      log,
      spawn,
      clock: systemClock(),
    });
    try {
      const outs: Buffer[] = [];
      for (const i of [0, 1, 0, 0, 1, 1, 0]) outs.push(await d.decode(frames[i]!));
      for (const o of outs) assert.deepEqual(jpegSize(o), { width: 480, height: 270 });
      const black = outs[0]!.length;
      const busy = outs[1]!.length;
      assert.ok(busy > 2 * black, `previews of ${black} and ${busy} bytes`);
      assert.deepEqual(
        outs.map((o) => (o.length < (black + busy) / 2 ? 0 : 1)),
        [0, 1, 0, 0, 1, 1, 0],
        `sizes ${outs.map((o) => o.length).join(", ")}`,
      );
    } finally {
      await d.stop();
    }
  });
}
