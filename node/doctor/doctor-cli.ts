import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import { clientSecurity } from "../../platform/mqtt/client-security.js";
import { connectVisitor } from "../../platform/mqtt/visitor.js";
import { redactUrl } from "../../platform/secrets.js";
import type { Clock } from "../../platform/clock.js";
import { listCameras } from "../camera/cameras-cli.js";
import { chronyReader } from "../sync/create-sync.js";
import { resolveCamera, streamFormatFor } from "../session/camera-plan.js";
import { cameraKind } from "../ffmpeg/ffmpeg-args.js";
import { checkCapture, checkClock, checkDisk, checkFfmpeg, type CheckResult } from "./doctor-checks.js";
import { readFile } from "node:fs/promises";
import { checkArgumentSecrets, checkNetworkAccess } from "./exposure-checks.js";
import type { Environment } from "../../platform/config/environment.js";

// `labx doctor`: what a lab runs on each Pi before an experiment. Every check runs, each answers
// ok, warn, fail or skipped; the exit status is 1 when any failed.

export const CAPTURE_SECONDS = 5;

async function checkBroker(config: Config, log: Logger, clock: Clock): Promise<CheckResult> {
  const url = redactUrl(config.broker_url);
  try {
    const connection = await connectVisitor({
      url: config.broker_url,
      clientId: `labx-doctor-${process.pid}`,
      security: clientSecurity(config),
      timeoutMs: 5000,
      log,
      clock,
    });
    const version = connection.protocolVersion === 5 ? "5" : "3.1.1";
    await connection.stop();
    return { check: "broker", verdict: "ok", detail: `${url}: connected (MQTT ${version})` };
  } catch (err) {
    return { check: "broker", verdict: "fail", detail: `${url}: ${redactUrl((err as Error).message)}` };
  }
}

export async function runDoctor(
  config: Config,
  deps: { ffmpegPath: string; childEnv: NodeJS.ProcessEnv; env: Environment; log: Logger; clock: Clock },
): Promise<CheckResult[]> {
  const results: CheckResult[] = [await checkFfmpeg(deps.ffmpegPath, deps.childEnv)];
  if (config.source === "command") {
    // A sensor node records its program, not a camera (docs/sensors.md).
    results.push(checkProgram(config.source_command, deps.env.PATH ?? "", process.cwd()));
    results.push(await checkClock(config, chronyReader(config, deps.clock)));
    results.push(await checkDisk(config, null));
    results.push(await checkBroker(config, deps.log, deps.clock));
    results.push(checkNetworkAccess(config));
    return results;
  }
  const v4l2 = await listCameras({ videoSize: config.video_size, framerate: config.framerate });
  results.push({
    check: "cameras",
    verdict: "ok",
    detail: v4l2.length
      ? v4l2.map((c) => `${c.device} (${c.name})`).join(", ")
      : "no V4L2 camera (labx cameras lists what v4l2-ctl sees)",
  });
  const resolved = await resolveCamera(config, deps.log);
  const capture = await streamFormatFor({ ...config, camera: resolved.camera }, deps.log, deps.clock).then(
    async ({ streamFormat, lateHandover }) => {
      const camera = { ...resolved, streamFormat, lateHandover, probed: false };
      const c = await checkCapture(deps.ffmpegPath, camera, CAPTURE_SECONDS, deps.clock);
      c.result.detail = `${redactUrl(camera.camera)}${cameraKind(camera.camera) === "stream" && streamFormat ? ` (${streamFormat})` : ""}: ${c.result.detail}`;
      return c;
    },
    // A camera silent for --camera-wait: what a start would be told.
    (err: unknown) => ({
      result: { check: "capture", verdict: "fail" as const, detail: (err as Error).message },
      analysis: null,
    }),
  );
  results.push(capture.result);
  results.push(await checkClock(config, chronyReader(config, deps.clock)));
  results.push(await checkDisk(config, capture.analysis?.bytesPerSecond ?? null));
  results.push(await checkBroker(config, deps.log, deps.clock));
  results.push(checkNetworkAccess(config));
  results.push(checkArgumentSecrets(config, await readFile("/proc/mounts", "utf8").catch(() => null)));
  return results;
}

/** The sensor program of --source command: found on PATH (or at its path) and executable. */
export function checkProgram(command: readonly string[], envPath: string, cwd: string): CheckResult {
  const program = command[0] ?? "";
  const candidates = program.includes("/")
    ? [path.resolve(cwd, program)]
    : envPath
        .split(":")
        .filter(Boolean)
        .map((dir) => path.join(dir, program));
  const found = candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
  return found
    ? { check: "sensor program", verdict: "ok", detail: `${found} (${JSON.stringify(command)})` }
    : {
        check: "sensor program",
        verdict: "fail",
        detail: `${program} is not ${program.includes("/") ? "an executable file" : "on PATH"}`,
      };
}

/** Pure: the verdict table. */
export function renderDoctor(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map(
    (r) => `${r.verdict.toUpperCase().padEnd(7)} ${r.check.padEnd(width)}  ${r.detail}`,
  );
  const failed = results.filter((r) => r.verdict === "fail").length;
  return `${lines.join("\n")}\n${failed ? `${failed} check(s) failed` : "ready to record"}\n`;
}
