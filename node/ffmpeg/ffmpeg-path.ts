import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export class FfmpegNotFoundError extends Error {}

export interface FfmpegLookup {
  configured: string | null;
  /** ffmpeg-static's path, when the optional package is installed and its binary downloaded. */
  staticPath?: () => string | null;
  envPath?: string | undefined;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function ffmpegStaticPath(): string | null {
  try {
    const p = createRequire(import.meta.url)("ffmpeg-static") as unknown;
    return typeof p === "string" ? p : null;
  } catch {
    return null;
  }
}

/**
 * An explicit --ffmpeg-path wins (and must work); then the system's ffmpeg (on PATH: the one the
 * distribution keeps patched, and the one CI tests); then ffmpeg-static's own build as the fallback
 * where the system has none. Resolved once at node start so a missing binary fails the launch.
 */
export function resolveFfmpeg(lookup: FfmpegLookup): string {
  if (lookup.configured) {
    if (executable(lookup.configured)) return lookup.configured;
    throw new FfmpegNotFoundError(`--ffmpeg-path ${lookup.configured} is not an executable file`);
  }
  for (const dir of (lookup.envPath ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, "ffmpeg");
    if (executable(candidate)) return candidate;
  }
  const fromStatic = (lookup.staticPath ?? ffmpegStaticPath)();
  if (fromStatic && executable(fromStatic)) return fromStatic;
  throw new FfmpegNotFoundError(
    "ffmpeg not found: install it (apt-get install ffmpeg), or the ffmpeg-static package, or pass --ffmpeg-path",
  );
}
