// Finds the time codes in one node's recorded frames: each batch is decoded by ffmpeg into gray
// frames (PGM on a pipe, in file order: the n-th frame is the sidecar's n-th row), and ZXing reads
// frames at a stride until a code shows, then every frame (the ones skipped just before it too) while
// codes keep showing, up to a cap; past the cap, the stride only.
import { spawn } from "node:child_process";
import path from "node:path";
import { parseTimecode } from "../../contract/timecode.js";
import type { NodeSession } from "../session-reader.js";
import type { CodeSample } from "./latency.js";
import { PgmSplitter, type GrayFrame } from "./pgm-frames.js";
import type { QrReader } from "./qr-reader.js";

export interface ScanOptions {
  ffmpegPath: string;
  reader: QrReader;
  /** Frames read at this stride while no code shows. */
  stride: number;
  /** Codes read densely per node; past them, the stride only. */
  maxCodes: number;
  /** Wider frames are scaled down to this width before reading (QR modules stay many pixels wide). */
  maxWidth: number;
}

export interface NodeScan {
  node: string;
  samples: CodeSample[];
  /** Frames ffmpeg decoded. */
  framesScanned: number;
  /** Frames ZXing looked at. */
  framesRead: number;
  /** Batches whose decoded frames do not match their sidecar's rows (skipped: their times are unknown). */
  mismatched: { file: string; decoded: number; rows: number }[];
}

/** The gray frames of a batch file, in order (ffmpeg, arguments only; no shell). */
async function* grayFrames(ffmpegPath: string, file: string, maxWidth: number): AsyncGenerator<GrayFrame> {
  const args = ["-nostdin", "-v", "error", "-i", file, "-map", "0:v:0", "-fps_mode", "passthrough"];
  args.push("-vf", `scale='min(iw,${maxWidth})':-2,format=gray`, "-c:v", "pgm", "-f", "image2pipe", "-");
  const ff = spawn(ffmpegPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  ff.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => ff.on("close", resolve));
  const splitter = new PgmSplitter();
  try {
    for await (const chunk of ff.stdout) for (const frame of splitter.push(chunk as Buffer)) yield frame;
  } finally {
    if (ff.exitCode === null) ff.kill("SIGKILL");
  }
  const code = await exited;
  if (code !== 0 && code !== null) throw new Error(`ffmpeg could not decode ${file}: ${stderr.trim()}`);
}

/** Codes further apart than this in one frame are two displays (or two pages): the frame is ambiguous. */
export const SAME_DISPLAY_US = 500_000;

/**
 * The time code a frame shows: the latest of its codes (the page's ?slots=N shows N, the latest being
 * the last one fully drawn before the exposure), or none when codes disagree by more than SAME_DISPLAY_US.
 */
export function codeIn(texts: readonly string[]): number | null {
  const codes = texts.map(parseTimecode).filter((c): c is number => c !== null);
  if (codes.length === 0) return null;
  const [lo, hi] = [Math.min(...codes), Math.max(...codes)];
  return hi - lo <= SAME_DISPLAY_US ? hi : null;
}

export async function scanNode(session: NodeSession, o: ScanOptions): Promise<NodeScan> {
  const scan: NodeScan = { node: session.node, samples: [], framesScanned: 0, framesRead: 0, mismatched: [] };
  const dataDir = path.dirname(session.dir);
  // Each batch's sidecar rows, grouped once (a long session has hundreds of batches).
  const byFile = new Map<string, NodeSession["frames"]>();
  for (const r of session.frames) {
    const rows = byFile.get(r.file);
    if (rows) rows.push(r);
    else byFile.set(r.file, [r]);
  }
  for (const batch of session.batches) {
    const rows = (byFile.get(batch.file) ?? []).sort((a, b) => a.batchFrame - b.batchFrame);
    const found: { index: number; codeUs: number }[] = [];
    const read = async (index: number, f: GrayFrame): Promise<boolean> => {
      scan.framesRead++;
      const codeUs = codeIn(await o.reader.readGray(f.pixels, f.width, f.height));
      if (codeUs !== null) found.push({ index, codeUs });
      return codeUs !== null;
    };
    // Frames since the last one read, kept so a code's first frames are read once it is seen.
    let skipped: { index: number; frame: GrayFrame }[] = [];
    let showing = false;
    let index = 0;
    for await (const frame of grayFrames(o.ffmpegPath, path.join(dataDir, batch.file), o.maxWidth)) {
      const i = index++;
      const dense = scan.samples.length + found.length < o.maxCodes;
      if (i % o.stride !== 0 && !(showing && dense)) {
        skipped.push({ index: i, frame });
        if (skipped.length > o.stride) skipped.shift();
        continue;
      }
      const seen = await read(i, frame);
      if (seen && !showing && dense) for (const s of skipped) await read(s.index, s.frame);
      skipped = [];
      showing = seen;
    }
    scan.framesScanned += index;
    if (index !== rows.length) {
      scan.mismatched.push({ file: batch.file, decoded: index, rows: rows.length });
      continue;
    }
    for (const f of found.sort((a, b) => a.index - b.index)) {
      const row = rows[f.index]!;
      scan.samples.push({ frame: row.frame, frameUs: row.rawEpochUs, codeUs: f.codeUs });
    }
  }
  return scan;
}
