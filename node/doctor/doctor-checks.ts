import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Config } from "../../platform/config/config.js";
import { freeBytes } from "../../platform/disk/free-bytes.js";
import { BatchAssembler } from "../ffmpeg/batch-assembler.js";
import { buildFfmpegArgs, cameraKind, timeSourceOf } from "../ffmpeg/ffmpeg-args.js";
import { parseInputStart, parseStdoutLine } from "../ffmpeg/ffmpeg-output.js";
import { describeFfmpegVersion, inTestedRange, readFfmpegVersion } from "../ffmpeg/ffmpeg-version.js";
import { assessClock } from "../sync/chrony-parse.js";
import type { ReadChrony } from "../sync/chrony-client.js";
import { analyseCapture, type CaptureAnalysis } from "./capture-analysis.js";
import type { CameraPlan } from "../session/camera-plan.js";
import type { Clock } from "../../platform/clock.js";
import { tmpdir } from "node:os";

// The effects of `labx doctor`, one check each: every check answers, never throws.

export type Verdict = "ok" | "warn" | "fail" | "skipped";

export interface CheckResult {
  check: string;
  verdict: Verdict;
  detail: string;
  data?: Record<string, unknown>;
}

/** The ffmpeg a node would record with: its version, and whether labx is tested with it (warn if not). */
export async function checkFfmpeg(ffmpegPath: string, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  try {
    const version = await readFfmpegVersion(ffmpegPath, env);
    return {
      check: "ffmpeg",
      verdict: inTestedRange(version) ? "ok" : "warn",
      detail: `${ffmpegPath}: ${describeFfmpegVersion(version)}`,
      data: { path: ffmpegPath, version: version.text, tested: inTestedRange(version) },
    };
  } catch (err) {
    return { check: "ffmpeg", verdict: "fail", detail: `${ffmpegPath}: ${(err as Error).message}` };
  }
}

/** A 5 s recording of the camera as a node would record it, its frames' times analysed. */
export async function checkCapture(
  ffmpegPath: string,
  camera: CameraPlan,
  seconds: number,
  clock: Clock,
): Promise<{ result: CheckResult; analysis: CaptureAnalysis | null }> {
  const dir = mkdtempSync(path.join(tmpdir(), "labx-doctor-"));
  try {
    const args = buildFfmpegArgs({
      camera: camera.camera,
      videoSize: camera.videoSize,
      framerate: camera.framerate,
      inputFormat: camera.inputFormat,
      streamFormat: camera.streamFormat,
      lateHandover: camera.lateHandover,
      codec: "auto",
      batchDuration: 3600,
      duration: seconds,
      filePattern: "doctor_%09d.mkv",
    });
    const startedUs = clock.now() * 1000;
    const { stdout, stderr } = await promisify(execFile)(ffmpegPath, args, {
      cwd: dir,
      timeout: (seconds + 20) * 1000,
      maxBuffer: 64 << 20,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        err.stderr?.split("\n").find((l) => /error/i.test(l)) ??
          err.message.split("\n")[0] ??
          "ffmpeg failed",
      );
    });
    const anchor =
      stderr
        .split("\n")
        .map(parseInputStart)
        .find((x) => x !== null) ?? null;
    const assembler = new BatchAssembler((seq) => `doctor_${String(seq).padStart(9, "0")}.mkv`);
    const lines = stdout.split("\n").map(parseStdoutLine);
    const batches = lines.flatMap((l) => assembler.push(l)).concat(assembler.finish());
    const bytes = lines.reduce((s, l) => s + (l.kind === "frame" ? l.bytes : 0), 0);
    const times = batches.flatMap((b) => b.framePtsUs).map((p) => (anchor ?? 0) + p);
    const analysis = anchor === null ? null : analyseCapture(times, bytes, startedUs);
    if (!analysis)
      return {
        result: { check: "capture", verdict: "fail", detail: "fewer than two frames in the test capture" },
        analysis,
      };
    const source = timeSourceOf(cameraKind(camera.camera));
    const tick = batches[0]?.tickUs ?? 1;
    const problems = [
      ...(analysis.dropped > 0 ? [`${analysis.dropped} dropped`] : []),
      ...(!analysis.monotonic ? ["times not increasing"] : []),
      ...(tick >= 1000 ? [`times quantized to ${Math.round(tick / 1000)} ms`] : []),
      ...(analysis.firstFrameAfterStartMs < 0 || analysis.firstFrameAfterStartMs > 10_000
        ? [
            `first frame ${analysis.firstFrameAfterStartMs} ms from the start: the camera's clock and this one differ`,
          ]
        : []),
    ];
    return {
      result: {
        check: "capture",
        verdict: problems.length ? "warn" : "ok",
        detail:
          `${analysis.frames} frames in ${seconds} s (${analysis.fps} fps), interval ${analysis.intervalMs} ms ± ${analysis.jitterMs} ms, ` +
          `time source ${source} at ${Math.round(tick * 1000) / 1000} µs` +
          (problems.length ? `; ${problems.join(", ")}` : ""),
        data: { ...analysis, time_source: source, time_resolution_us: Math.round(tick * 1000) / 1000 },
      },
      analysis,
    };
  } catch (err) {
    return { result: { check: "capture", verdict: "fail", detail: (err as Error).message }, analysis: null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function checkClock(config: Config, read: ReadChrony): Promise<CheckResult> {
  if (config.disable_sync) return { check: "clock", verdict: "skipped", detail: "--disable-sync" };
  try {
    const { tracking: t, sources } = await read();
    const a = assessClock(t, sources, config.max_root_distance_ms / 1000);
    const figures = `offset ${(t.offsetS * 1000).toFixed(3)} ms, root distance ${(a.rootDistanceS * 1000).toFixed(3)} ms`;
    return a.synced
      ? { check: "clock", verdict: "ok", detail: `chrony synced to ${t.source || t.refId}: ${figures}` }
      : { check: "clock", verdict: "fail", detail: `chrony not synced: ${a.reason} (${figures})` };
  } catch (err) {
    return { check: "clock", verdict: "fail", detail: (err as Error).message };
  }
}

/** Free space, and how fast the data directory takes 64 MiB (fsync'ed) against the camera's bitrate. */
export async function checkDisk(config: Config, bytesPerSecond: number | null): Promise<CheckResult> {
  try {
    // As the node does at its start.
    await mkdir(config.data_dir, { recursive: true });
    const free = await freeBytes(config.data_dir);
    const file = path.join(config.data_dir, `.labx-doctor-${process.pid}`);
    const chunk = Buffer.alloc(1 << 20, 7);
    const t0 = performance.now();
    const h = await open(file, "w");
    try {
      for (let i = 0; i < 64; i++) await h.write(chunk);
      await h.sync();
    } finally {
      await h.close();
      rmSync(file, { force: true });
    }
    const mbPerS = 64 / ((performance.now() - t0) / 1000);
    const freeMb = Math.floor(free / 1048576);
    const needMbPerS = bytesPerSecond === null ? null : bytesPerSecond / 1048576;
    const slow = needMbPerS !== null && mbPerS < 10 * needMbPerS;
    const low = freeMb < config.min_free_mb;
    return {
      check: "disk",
      verdict: low ? "fail" : slow ? "warn" : "ok",
      detail:
        `${freeMb} MiB free in ${config.data_dir} (start needs ${config.min_free_mb}), writes ${mbPerS.toFixed(1)} MiB/s` +
        (needMbPerS === null ? "" : ` for a camera of ${needMbPerS.toFixed(2)} MiB/s`),
      data: { free_mb: freeMb, write_mib_s: Math.round(mbPerS * 10) / 10 },
    };
  } catch (err) {
    return { check: "disk", verdict: "fail", detail: `${config.data_dir}: ${(err as Error).message}` };
  }
}
