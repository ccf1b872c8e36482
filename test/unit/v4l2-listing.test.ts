import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { chooseCapture, parseFormats, parseListDevices } from "../../node/camera/v4l2-listing.js";
import { ROOT } from "../helpers/node.js";

// Listings printed by v4l2-ctl for real devices (test/fixtures/v4l2/README.md names each source).
const fixture = (name: string): string => readFileSync(path.join(ROOT, "test/fixtures/v4l2", name), "utf8");

describe("V4L2 listings from real devices (pure)", () => {
  it("reads v4l2-ctl --list-devices: each card, its bus and its video nodes (media nodes left out)", () => {
    const devices = parseListDevices(fixture("list-devices-rpi4-unicam.txt"));
    assert.deepEqual(
      devices.map((d) => [d.name, d.bus, d.videoNodes.length]),
      [
        ["bcm2835-codec-decode", "platform:bcm2835-codec", 5],
        ["bcm2835-isp", "platform:bcm2835-isp", 8],
        ["unicam", "platform:fe801000.csi", 2],
      ],
    );
    assert.deepEqual(devices[2]!.videoNodes, ["/dev/video0", "/dev/video1"]);
  });

  it("reads the older Index/Pixel Format layout: formats, sizes (repeats merged) and rates", () => {
    const formats = parseFormats(fixture("formats-uvc1080p-old-layout.txt"));
    assert.deepEqual(
      formats.map((f) => [f.fourcc, f.description]),
      [
        ["MJPG", "Motion-JPEG"],
        ["YUYV", "YUYV 4:2:2"],
      ],
    );
    assert.deepEqual(
      formats[0]!.sizes.map((s) => `${s.width}x${s.height}@${s.fps.join("/")}`),
      ["1920x1080@30", "1280x720@30", "640x480@30", "320x240@30"],
    );
    assert.equal(formats[1]!.sizes.length, 2);
  });

  it("reads the newer [0]: 'MJPG' layout, every discrete rate of each size", () => {
    const [mjpg] = parseFormats(fixture("formats-uvc720p-new-layout.txt"));
    assert.equal(mjpg!.fourcc, "MJPG");
    assert.equal(mjpg!.description, "Motion-JPEG, compressed");
    assert.deepEqual(mjpg!.sizes[0], { width: 640, height: 480, fps: [30, 25, 20, 15, 10, 7.5, 5] });
    assert.deepEqual(mjpg!.sizes[2], { width: 1280, height: 720, fps: [30, 25, 20] });
  });

  it("reads stepwise sizes (a CSI camera): the largest size, any rate", () => {
    const formats = parseFormats(fixture("formats-rpi-csi-stepwise-old-layout.txt"));
    assert.deepEqual(
      formats.map((f) => f.fourcc),
      ["YU12", "YUYV", "JPEG", "H264", "MJPG"],
    );
    assert.deepEqual(formats[4]!.sizes, [{ width: 2592, height: 1944, fps: [], stepwise: true }]);
  });

  it("chooses MJPEG first, at the wanted size and rate when offered, else the largest at the best rate", () => {
    const uvc = parseFormats(fixture("formats-uvc1080p-old-layout.txt"));
    assert.deepEqual(chooseCapture(uvc, { videoSize: "1280x720", framerate: 30 }), {
      inputFormat: "mjpeg",
      videoSize: "1280x720",
      framerate: 30,
    });
    assert.deepEqual(chooseCapture(uvc, { videoSize: "800x600", framerate: 60 }), {
      inputFormat: "mjpeg",
      videoSize: "1920x1080",
      framerate: 30,
    });
    const newer = parseFormats(fixture("formats-uvc720p-new-layout.txt"));
    assert.deepEqual(chooseCapture(newer, { videoSize: "640x480", framerate: 24 }), {
      inputFormat: "mjpeg",
      videoSize: "640x480",
      framerate: 20,
    });
    const csi = parseFormats(fixture("formats-rpi-csi-stepwise-old-layout.txt"));
    assert.deepEqual(chooseCapture(csi, { videoSize: "1640x1232", framerate: 30 }), {
      inputFormat: "mjpeg",
      videoSize: "1640x1232",
      framerate: 30,
    });
    // Raw YUYV only: recorded (and encoded to MJPEG by the node).
    assert.equal(chooseCapture([uvc[1]!], { videoSize: "640x480", framerate: 30 })!.inputFormat, "yuyv422");
    assert.equal(
      chooseCapture([{ fourcc: "GREY", description: "", sizes: [] }], {
        videoSize: "640x480",
        framerate: 30,
      }),
      null,
    );
  });
});
