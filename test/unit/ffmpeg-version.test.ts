import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  describeFfmpegVersion,
  inTestedRange,
  parseFfmpegVersion,
} from "../../node/ffmpeg/ffmpeg-version.js";

describe("ffmpeg's version", () => {
  it("is read from the banners of Debian's, ffmpeg-static's and git builds", () => {
    const debian12 = parseFfmpegVersion(
      "ffmpeg version 5.1.8-0+deb12u1 Copyright (c) 2000-2025 the FFmpeg developers",
    );
    assert.deepEqual(debian12, { text: "5.1.8-0+deb12u1", release: { major: 5, minor: 1 } });
    assert.deepEqual(parseFfmpegVersion("ffmpeg version 7.1.5-0+deb13u1 Copyright")?.release, {
      major: 7,
      minor: 1,
    });
    assert.deepEqual(parseFfmpegVersion("ffmpeg version 6.1.1-static https://johnvansickle.com")?.release, {
      major: 6,
      minor: 1,
    });
    assert.deepEqual(parseFfmpegVersion("ffmpeg version n7.1 Copyright")?.release, { major: 7, minor: 1 });
    assert.equal(parseFfmpegVersion("ffmpeg version N-118000-gabc123 Copyright")?.release, null);
    assert.equal(parseFfmpegVersion("avconv version 12"), null);
    assert.equal(parseFfmpegVersion(""), null);
  });
  it("says whether labx is tested with it: 5.1 to 7.1", () => {
    const v = (line: string) => parseFfmpegVersion(`ffmpeg version ${line} Copyright`)!;
    assert.equal(inTestedRange(v("5.1.8-0+deb12u1")), true);
    assert.equal(inTestedRange(v("6.1.1-static")), true);
    assert.equal(inTestedRange(v("7.1.5-0+deb13u1")), true);
    assert.equal(inTestedRange(v("4.4.2")), false);
    assert.equal(inTestedRange(v("5.0.1")), false);
    assert.equal(inTestedRange(v("7.2")), false);
    assert.equal(inTestedRange(v("8.0")), false);
    assert.equal(inTestedRange(v("N-118000-gabc123")), null);
    assert.match(describeFfmpegVersion(v("7.1.5-0+deb13u1")), /^ffmpeg 7\.1\.5-0\+deb13u1 \(tested/);
    assert.match(
      describeFfmpegVersion(v("8.0")),
      /not in the tested range: labx is tested with 5\.1 to 7\.1/,
    );
    assert.match(describeFfmpegVersion(v("N-1-gabc")), /not a release build/);
  });
});
