import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { SpawnFn } from "../process/child-runner.js";
import type { Clock } from "../../platform/clock.js";
import { PREVIEW_DIR } from "../ffmpeg/preview-args.js";
import { PreviewPublisher } from "./preview-publisher.js";

/** The node's preview publisher, or null with --preview-interval 0. */
export function createPreview(
  config: Config,
  deps: {
    log: Logger;
    ffmpegPath: string;
    spawn: SpawnFn;
    clock: Clock;
    publish: (jpeg: Buffer) => Promise<void>;
  },
): PreviewPublisher | null {
  if (!config.preview_interval) return null;
  return new PreviewPublisher({
    node: config.sbc_id,
    dir: path.join(config.data_dir, PREVIEW_DIR),
    intervalMs: config.preview_interval * 1000,
    maxBytes: config.preview_max_kb * 1024,
    width: config.preview_width,
    ffmpegPath: deps.ffmpegPath,
    spawn: deps.spawn,
    clock: deps.clock,
    publish: deps.publish,
    log: deps.log,
  });
}
