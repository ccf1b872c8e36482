// The camera preview (labx/<id>/preview): real nodes, real ffmpeg, a real broker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { PREVIEW_DIR } from "../../node/ffmpeg/preview-args.js";
import { withNode, type NodeHarness } from "../helpers/harness.js";
import { createValidators } from "../../contract/schemas.js";
import { isJpeg, jpegSize, readPreviewMeta } from "../../contract/preview.js";
import type { PreviewMeta } from "../../contract/generated/payloads.js";

const validators = createValidators();

/** Every preview so far, each checked: a JPEG whose metadata passes the schema and whose size it states. */
function previews(h: NodeHarness, node: string): { meta: PreviewMeta; bytes: Buffer }[] {
  return h.rec.on(`labx/${node}/preview`).map((m) => {
    assert.ok(isJpeg(m.bytes), "a preview is a JPEG");
    const meta = readPreviewMeta(m.bytes);
    assert.ok(validators.preview(meta), `metadata ${JSON.stringify(meta)} fails the schema`);
    assert.deepEqual(jpegSize(m.bytes), { width: meta.width, height: meta.height });
    return { meta, bytes: m.bytes };
  });
}

async function recordFor(h: NodeHarness, node: string, cmd: Record<string, unknown>, count: number) {
  const reply = await h.rec.command("labx", node, node, { cmd: "start", session: "pv", ...cmd });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const got = await h.rec.waitFor(
    () => (previews(h, node).length >= count ? previews(h, node) : undefined),
    30_000,
    `${count} previews`,
  );
  await h.rec.command("labx", node, node, { cmd: "stop" });
  return got;
}

test("an MJPEG camera's preview is one of its own frames, retained, refreshed at the interval", async () => {
  await withNode({ sbc_id: "PV1", disable_sync: true, preview_interval: 1, batch_duration: 2 }, async (h) => {
    const got = await recordFor(h, "PV1", {}, 4);
    for (const p of got) {
      assert.equal(p.meta.node, "PV1");
      assert.equal(p.meta.session, "pv");
      assert.equal(p.meta.source, "frame", "a JPEG frame within the cap goes undecoded");
      assert.deepEqual([p.meta.width, p.meta.height], [640, 480]);
      assert.ok(p.bytes.length <= 100 * 1024);
    }
    const times = got.map((p) => Date.parse(p.meta.taken_at));
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i]! > times[i - 1]!, "each preview is a newer frame");
      // Kept every 30 frames at 30 fps: about a second apart.
      assert.ok(times[i]! - times[i - 1]! > 500, `previews ${times[i]! - times[i - 1]!} ms apart`);
    }
    assert.equal(new Set(got.map((p) => p.bytes.toString("base64"))).size, got.length, "the image changes");
    const retained = h.rec.on("labx/PV1/preview");
    assert.ok(retained.length > 0);
    // The recording itself lost nothing to the preview: every batch holds its whole share of frames.
    const batches = h.rec.jsonOn<{ frames: number; duration_s: number; last?: boolean }>("labx/PV1/batch");
    for (const b of batches.filter((b) => !b.last))
      assert.equal(b.frames, Math.round(b.duration_s * 30), JSON.stringify(b));
  });
});

test("an H.264 recording's preview is a keyframe decoded to a small JPEG", async () => {
  await withNode(
    {
      sbc_id: "PV2",
      disable_sync: true,
      preview_interval: 1,
      preview_width: 320,
      batch_duration: 1,
      codec: "h264",
      video_size: "1280x720",
    },
    async (h) => {
      const got = await recordFor(h, "PV2", {}, 2);
      for (const p of got) {
        assert.equal(p.meta.source, "keyframe");
        assert.deepEqual([p.meta.width, p.meta.height], [320, 180]);
      }
    },
  );
});

test("a camera frame over --preview-max-kb is scaled down to --preview-width", async () => {
  await withNode(
    { sbc_id: "PV3", disable_sync: true, preview_interval: 1, preview_max_kb: 40, video_size: "1920x1080" },
    async (h) => {
      const got = await recordFor(h, "PV3", {}, 2);
      for (const p of got) {
        assert.equal(p.meta.source, "scaled");
        assert.deepEqual([p.meta.width, p.meta.height], [480, 270]);
        assert.ok(p.bytes.length <= 40 * 1024, `${p.bytes.length} bytes`);
      }
    },
  );
});

test("--preview-interval 0: no preview, and ffmpeg keeps no frame for one", async () => {
  await withNode({ sbc_id: "PV4", disable_sync: true, preview_interval: 0 }, async (h) => {
    const reply = await h.rec.command("labx", "PV4", "PV4", { cmd: "start", session: "pv" });
    assert.equal(reply.ok, true);
    await h.rec.waitFor(() => h.rec.on("labx/PV4/batch")[0], 20_000, "a batch");
    await h.rec.command("labx", "PV4", "PV4", { cmd: "stop" });
    assert.equal(h.rec.on("labx/PV4/preview").length, 0);
    assert.ok(!existsSync(path.join(h.run.dataDir, PREVIEW_DIR)), "no preview folder, so no kept frame");
  });
});
