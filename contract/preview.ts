// Pure: the preview's wire format (schemas/preview.schema.json). The payload is a plain JPEG; its
// metadata rides in a comment segment right after the start of image, so any JPEG viewer shows it
// and labx tools read where and when it was taken.
import type { PreviewMeta } from "./generated/payloads.js";

export const PREVIEW_COMMENT_PREFIX = "labx-preview ";
const SOI = 0xd8;
const COM = 0xfe;

export function isJpeg(buf: Buffer): boolean {
  return buf.length > 4 && buf[0] === 0xff && buf[1] === SOI;
}

/** The JPEG with a COM segment holding `labx-preview <json>` inserted after its SOI. */
export function embedPreviewMeta(jpeg: Buffer, meta: PreviewMeta): Buffer {
  if (!isJpeg(jpeg)) throw new Error("not a JPEG");
  const text = Buffer.from(PREVIEW_COMMENT_PREFIX + JSON.stringify(meta), "utf8");
  if (text.length + 2 > 0xffff) throw new Error("preview metadata too long for a JPEG comment");
  const head = Buffer.from([0xff, COM, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, text, jpeg.subarray(2)]);
}

/** Walks the JPEG's marker segments up to the start of scan. */
function* segments(buf: Buffer): Generator<{ marker: number; body: Buffer }> {
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const len = buf.readUInt16BE(i + 2);
    if (len < 2 || i + 2 + len > buf.length) return;
    yield { marker, body: buf.subarray(i + 4, i + 2 + len) };
    if (marker === 0xda) return; // start of scan: entropy-coded data follows
    i += 2 + len;
  }
}

/** The labx comment's JSON, unvalidated (check it against the schema), or null. */
export function readPreviewMeta(jpeg: Buffer): unknown {
  if (!isJpeg(jpeg)) return null;
  for (const { marker, body } of segments(jpeg)) {
    if (marker !== COM) continue;
    const text = body.toString("utf8");
    if (!text.startsWith(PREVIEW_COMMENT_PREFIX)) continue;
    try {
      return JSON.parse(text.slice(PREVIEW_COMMENT_PREFIX.length));
    } catch {
      return null;
    }
  }
  return null;
}

/** Width and height from the first start-of-frame segment (SOF0-SOF15 but DHT, JPG, DAC), or null. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | null {
  if (!isJpeg(jpeg)) return null;
  for (const { marker, body } of segments(jpeg)) {
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof && body.length >= 5) return { height: body.readUInt16BE(1), width: body.readUInt16BE(3) };
  }
  return null;
}
