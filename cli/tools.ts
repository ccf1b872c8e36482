// The one-shot tools of `labx` (cameras, align, fetch, verify, conformance): each loaded only when asked for, so a
// node never pays for them, and each with the same exits (0 done, 1 its own failure, 2 a usage or
// configuration error, said on stderr).
import { ConfigError } from "../platform/config/config.js";
import { SecurityConfigError } from "../platform/mqtt/client-security.js";
import { createValidators } from "../contract/schemas.js";
import { labxVersion } from "../platform/version.js";
import { systemClock } from "../platform/clock.js";
import type { Environment } from "../platform/config/environment.js";
import { FfmpegNotFoundError, resolveFfmpeg } from "../node/ffmpeg/ffmpeg-path.js";

export const TOOLS = ["cameras", "align", "fetch", "verify", "conformance"] as const;
export type Tool = (typeof TOOLS)[number];

export const isTool = (command: string): command is Tool => (TOOLS as readonly string[]).includes(command);

async function run(tool: Tool, argv: string[], env: Environment): Promise<number> {
  switch (tool) {
    case "cameras":
      return (await import("../node/camera/cameras-cli.js")).runCameras(argv, env, process.stdout);
    case "align":
      return (await import("../align/align-cli.js")).runAlign(argv, env, process.stdout, {
        validators: createValidators(),
        err: process.stderr,
      });
    case "fetch":
      return (await import("../align/fetch-cli.js")).runFetch(argv, env, process.stdout);
    case "conformance":
      return (await import("../ctl/conformance/conformance-cli.js")).runConformance(argv, env, {
        stdout: process.stdout,
        stderr: process.stderr,
        validators: createValidators(),
        color: process.stdout.isTTY === true,
        clock: systemClock(),
      });
    case "verify":
      return (await import("../align/verify/verify-cli.js")).runVerify(argv, env, {
        // Debian's ffmpeg also draws the certificate's plot (librsvg); LABX_FFMPEG_PATH names another.
        ffmpegPath: resolveFfmpeg({ configured: env.LABX_FFMPEG_PATH || null, envPath: env.PATH }),
        validators: createValidators(),
        stdout: process.stdout,
        stderr: process.stderr,
        version: labxVersion(),
        clock: systemClock(),
      });
  }
}

export async function runTool(tool: Tool, argv: string[], env: Environment): Promise<number> {
  try {
    return await run(tool, argv, env);
  } catch (err) {
    if (!(
      err instanceof ConfigError ||
      err instanceof FfmpegNotFoundError ||
      err instanceof SecurityConfigError
    ))
      throw err;
    console.error(`labx ${tool}: ${err.message}`);
    return 2;
  }
}
