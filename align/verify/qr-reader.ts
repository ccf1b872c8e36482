// QR codes in images, by ZXing (zxing-wasm): its WebAssembly is loaded from the package, never from
// the network (the library's default would fetch it from a CDN), so `labx verify` works offline.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { prepareZXingModule, readBarcodes, type ReaderOptions } from "zxing-wasm/reader";

export interface QrReader {
  /** The texts of the QR codes in an 8-bit grayscale image (one byte per pixel, rows top to bottom). */
  readGray(gray: Uint8Array, width: number, height: number): Promise<string[]>;
  /** The texts of the QR codes in an encoded image (PNG, JPEG). */
  readImage(bytes: Uint8Array): Promise<string[]>;
}

const OPTIONS: ReaderOptions = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 4 };

let prepared: Promise<unknown> | null = null;

/** The reader, its WebAssembly compiled once per process (the library keeps one module). */
export async function createQrReader(): Promise<QrReader> {
  prepared ??= (async () => {
    const wasmFile = createRequire(import.meta.url).resolve("zxing-wasm/reader/zxing_reader.wasm");
    const wasm = await readFile(wasmFile);
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
    return prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
  })();
  await prepared;
  const texts = (results: { isValid: boolean; text: string }[]): string[] =>
    results.filter((r) => r.isValid).map((r) => r.text);
  let rgba = new Uint8ClampedArray(0);
  return {
    async readGray(gray, width, height) {
      if (gray.length !== width * height)
        throw new RangeError(`${gray.length} bytes is not ${width}×${height}`);
      if (rgba.length !== gray.length * 4) rgba = new Uint8ClampedArray(gray.length * 4);
      for (let i = 0, j = 0; i < gray.length; i++, j += 4) {
        const v = gray[i]!;
        rgba[j] = v;
        rgba[j + 1] = v;
        rgba[j + 2] = v;
        rgba[j + 3] = 255;
      }
      const image = { data: rgba, width, height, colorSpace: "srgb" } as unknown as Parameters<
        typeof readBarcodes
      >[0];
      return texts(await readBarcodes(image, OPTIONS));
    },
    async readImage(bytes) {
      return texts(await readBarcodes(bytes, OPTIONS));
    },
  };
}
