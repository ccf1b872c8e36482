// Pure: reads the MQTT fixed headers of a byte stream as it passes and says when a packet declares
// more than `max` bytes (or a length no MQTT packet has). aedes 1.x buffers a whole packet, up to the
// protocol's 256 MiB, before it parses it; the embedded broker closes such a connection at its header.

export class PacketSizeGuard {
  /** Bytes of the current packet's body still to pass; -1: at a fixed header. */
  private skip = -1;
  private lengthBytes = 0;
  private length = 0;
  private multiplier = 1;
  private atType = true;

  constructor(private readonly max: number) {}

  /** Feeds the next bytes; false once a packet is over the limit (the guard stays false). */
  feed(chunk: Uint8Array): boolean {
    if (this.skip === -2) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.reset();
        continue;
      }
      if (this.atType) {
        this.atType = false;
        i++;
        continue;
      }
      const byte = chunk[i++]!;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return this.fail();
        continue;
      }
      if (this.length > this.max) return this.fail();
      this.skip = this.length;
      if (this.skip === 0) this.reset();
    }
    return true;
  }

  private fail(): false {
    this.skip = -2;
    return false;
  }

  private reset(): void {
    this.skip = -1;
    this.atType = true;
    this.length = 0;
    this.lengthBytes = 0;
    this.multiplier = 1;
  }
}
