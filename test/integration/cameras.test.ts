import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT, runCli, tempDir } from "../helpers/node.js";

// `labx cameras` as a process. No V4L2 device can exist on the test machines, so v4l2-ctl is a
// stand-in on PATH that prints what the real one printed for real devices (test/fixtures/v4l2/):
// a Raspberry Pi 4 with its codec and ISP nodes and a CSI camera. That stand-in is the only mock.
const FIXTURES = path.join(ROOT, "test/fixtures/v4l2");

function standInV4l2Ctl(): string {
  const dir = tempDir();
  const file = path.join(dir, "v4l2-ctl");
  writeFileSync(
    file,
    `#!/bin/sh
case "$*" in
  "--list-devices") cat "${FIXTURES}/list-devices-rpi4-unicam.txt" ;;
  "-d /dev/video0 --list-formats-ext") cat "${FIXTURES}/formats-rpi-csi-stepwise-old-layout.txt" ;;
  "-d /dev/video1 --list-formats-ext") printf 'ioctl: VIDIOC_ENUM_FMT\\n' ;;
  *) echo "stand-in v4l2-ctl: unexpected $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(file, 0o755);
  return dir;
}

describe("labx cameras", () => {
  it("lists each camera's formats and the capture a node would set up; the Pi's codec and ISP nodes are not cameras", async () => {
    const bin = standInV4l2Ctl();
    const run = runCli(["cameras", "--video-size", "1640x1232", "--framerate", "30"], {
      PATH: `${bin}:${process.env.PATH}`,
    });
    assert.equal((await run.exited).code, 0, run.stderr());
    const out = run.stdout();
    assert.match(out, /^\/dev\/video0 {2}unicam \(platform:fe801000\.csi\)$/m);
    assert.match(out, /MJPG {2}Motion-JPEG: up to 2592x1944/);
    assert.match(
      out,
      /→ labx node --camera \/dev\/video0 --input-format mjpeg --video-size 1640x1232 --framerate 30/,
    );
    assert.doesNotMatch(out, /video1[0-9]|bcm2835/, "codec and ISP nodes are left out");
    assert.doesNotMatch(out, /\/dev\/video1 /, "a node without capture formats is left out");

    const json = runCli(["cameras", "--json"], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal((await json.exited).code, 0, json.stderr());
    const cameras = JSON.parse(json.stdout()) as { device: string; choice: { inputFormat: string } }[];
    assert.deepEqual(
      cameras.map((c) => [c.device, c.choice.inputFormat]),
      [["/dev/video0", "mjpeg"]],
    );
  });

  it("without v4l2-ctl or any camera: says the node records the synthetic camera, exit 0", async () => {
    const run = runCli(["cameras"], { PATH: tempDir() });
    assert.equal((await run.exited).code, 0, run.stderr());
    assert.match(run.stdout(), /no V4L2 camera found .*synthetic camera/);
  });

  it("refuses an option it does not know, exit 2", async () => {
    const run = runCli(["cameras", "--bogus"]);
    assert.equal((await run.exited).code, 2);
    assert.match(run.stderr(), /unknown option --bogus/);
  });

  it("--camera auto with a camera listed: the node opens that device (here it cannot exist, and says so)", async () => {
    const bin = standInV4l2Ctl();
    const run = runCli(
      [
        "node",
        "--camera",
        "auto",
        "--duration",
        "2",
        "--disable-sync",
        "--data-dir",
        tempDir(),
        "--broker-url",
        "mqtt://127.0.0.1:1",
      ],
      { PATH: `${bin}:${process.env.PATH}` },
    );
    const { code } = await run.exited;
    assert.equal(code, 1);
    assert.match(run.stderr(), /recording could not start: \/dev\/video0 is not a video device/);
    assert.match(run.stdout(), /camera auto: chosen/);
  });

  it("--camera auto with no V4L2 camera: records the synthetic camera and says so (a real run, no stand-in)", async () => {
    const dataDir = tempDir();
    const run = runCli(
      [
        "node",
        "--camera",
        "auto",
        "--duration",
        "2",
        "--batch-duration",
        "1",
        "--session",
        "auto1",
        "--disable-sync",
        "--data-dir",
        dataDir,
        "--broker-url",
        "mqtt://127.0.0.1:1",
      ],
      { PATH: `${tempDir()}:${path.dirname(process.execPath)}:/usr/bin:/bin` },
    );
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stdout(), /camera auto: no V4L2 camera found, recording the synthetic camera/);
    const manifest = readFileSync(path.join(dataDir, "auto1", "manifest.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.ok(manifest.length >= 2, `${manifest.length} batches`);
    for (const line of manifest)
      assert.equal((JSON.parse(line) as { time_source: string }).time_source, "synthetic");
  });
});
