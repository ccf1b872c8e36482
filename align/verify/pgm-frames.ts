// Pure: binary PGM images (P5, 8-bit), one after another as ffmpeg's `-c:v pgm -f image2pipe` writes
// them, split out of a byte stream that arrives in arbitrary chunks.

export interface GrayFrame {
  width: number;
  height: number;
  /** One byte per pixel, rows top to bottom. */
  pixels: Uint8Array;
}

const HEADER = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/;

export class PgmSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames completed by this chunk. */
  push(chunk: Buffer): GrayFrame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: GrayFrame[] = [];
    for (;;) {
      const head = HEADER.exec(this.pending.subarray(0, 64).toString("latin1"));
      if (!head) {
        if (this.pending.length >= 64 || (this.pending.length > 0 && this.pending[0] !== 0x50))
          throw new Error("not a PGM stream");
        break;
      }
      const [width, height, max] = [Number(head[1]), Number(head[2]), Number(head[3])];
      if (max > 255) throw new Error(`16-bit PGM (maxval ${max}) is not read`);
      const start = head[0].length;
      const end = start + width * height;
      if (this.pending.length < end) break;
      out.push({ width, height, pixels: this.pending.subarray(start, end) });
      this.pending = this.pending.subarray(end);
    }
    return out;
  }

  /** Bytes left over at the end of the stream (a torn last frame). */
  get leftover(): number {
    return this.pending.length;
  }
}
