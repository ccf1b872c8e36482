import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { loadConfig, type Config } from "../../platform/config/config.js";
import { LabxNode, OUTBOX_DIR } from "../../node/labx-node.js";
import { resolveLauncher } from "../../node/ffmpeg/launcher.js";
import { PREVIEW_DIR } from "../../node/ffmpeg/preview-args.js";
import { createValidators, type Validators } from "../../contract/schemas.js";
import { probeFfmpegCapabilities, type FfmpegCapabilities } from "../../node/ffmpeg/ffmpeg-capabilities.js";
import { testChildEnv } from "./child-env.js";
import { systemClock } from "../../platform/clock.js";
import { configSecrets } from "../../platform/secrets.js";
import { quietLibraries } from "../../platform/config/environment.js";

// As labx does at start: the AWS SDK's notice about Node.js releases stays out of the test output.
quietLibraries();

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = path.join(ROOT, "cli", "labx.ts");
export const FFMPEG = execFileSync("sh", ["-c", "command -v ffmpeg"]).toString().trim();

export function tempDir(prefix = "labx-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** What the data directory holds besides the node's own folders (outbox journal, preview): session folders, normally. */
export function dataDirEntries(dataDir: string): string[] {
  return readdirSync(dataDir).filter((e) => e !== OUTBOX_DIR && e !== PREVIEW_DIR);
}

export function testConfig(overrides: Partial<Config>): Config {
  const base = loadConfig([], {});
  return Object.freeze({ ...base, min_free_mb: 1, log_level: "silent", ...overrides });
}

export interface RunningNode {
  node: LabxNode;
  config: Config;
  dataDir: string;
  stop(): Promise<void>;
}

const capabilities = new Map<string, Promise<FfmpegCapabilities>>();
/** Each ffmpeg tried once per test process. */
function capabilitiesOf(ffmpeg: string): Promise<FfmpegCapabilities> {
  let found = capabilities.get(ffmpeg);
  if (!found) capabilities.set(ffmpeg, (found = probeFfmpegCapabilities(ffmpeg, testChildEnv)));
  return found;
}

/** A node in this process, talking to a real broker and spawning real ffmpeg. */
export async function startNode(
  overrides: Partial<Config> & { broker_url: string },
  validators = createValidators(),
): Promise<RunningNode> {
  const dataDir = overrides.data_dir ?? tempDir();
  const config = testConfig({ data_dir: dataDir, ...overrides });
  const log = pino({ level: process.env.LABX_TEST_LOG ?? "silent" });
  const node = new LabxNode(config, {
    log,
    validators: validators as Validators,
    ffmpegPath: overrides.ffmpeg_path ?? FFMPEG,
    // As labx node finds them: the tests run on ffmpeg 5.1 and on 7.1 (scripts/test-platforms.sh).
    ffmpegCapabilities: () => capabilitiesOf(overrides.ffmpeg_path ?? FFMPEG),
    launcher: resolveLauncher().prefix,
    childEnv: testChildEnv,
    secrets: configSecrets(config, process.env),
    clock: systemClock(),
  });
  await node.start();
  return {
    node,
    config,
    dataDir,
    stop: async () => {
      await node.stop();
      if (!overrides.data_dir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A CLI process's exit, bounded: past `ms` it is killed and the wait fails with what it printed, so a
 * hang says where it was instead of running into the file's timeout silently.
 */
export async function exitedWithin(
  p: CliProcess,
  ms: number,
  what: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  try {
    const outcome = await Promise.race([p.exited, late]);
    if (outcome !== "late") return outcome;
    p.child.kill("SIGKILL");
    throw new Error(
      `${what} did not exit within ${ms / 1000} s (killed); stderr: ${p.stderr().slice(-2000)}; stdout: ${p.stdout().slice(-500)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** `labx <args>` as a real process (from source, through tsx). */
export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}
