import type { Logger } from "pino";
import type { Config } from "../../platform/config/config.js";
import type { Clock } from "../../platform/clock.js";
import { belowOnce, FreeSpace } from "../../platform/disk/free-space.js";
import { callSafely } from "../../platform/listeners.js";

/**
 * While a session records: the data directory's free space every --disk-check-interval. At the first
 * reading below --stop-free-mb, `low` is told once the free MiB, so the session can end cleanly while
 * its manifest can still be written. Started here; the caller stops it with the session.
 */
export function guardDisk(
  config: Pick<Config, "data_dir" | "disk_check_interval" | "stop_free_mb">,
  deps: { freeBytes?: ((dir: string) => Promise<number>) | undefined; clock: Clock; log: Logger },
  low: (freeMb: number) => void,
): FreeSpace {
  const watch = new FreeSpace({
    dir: config.data_dir,
    intervalMs: config.disk_check_interval * 1000,
    freeBytes: deps.freeBytes,
    clock: deps.clock,
    onReading: belowOnce(config.stop_free_mb * 1024 * 1024, (free) =>
      callSafely(deps.log, "disk low", () => low(Math.floor(free / 1048576))),
    ),
  });
  void watch.start();
  return watch;
}
