import { spawnSync } from "node:child_process";

/**
 * The prefix ffmpeg is exec'ed through so it dies with the node. `setpriv --pdeathsig TERM` (util-linux,
 * Essential on Debian and Raspberry Pi OS) asks the kernel to send SIGTERM to ffmpeg when the node
 * dies, even by kill -9; ffmpeg then writes its trailers and exits, releasing the camera. A broken pipe
 * cannot do this job: ffmpeg inherits Node's ignored SIGPIPE. Checked once at start; where setpriv is
 * missing, ffmpeg is spawned directly and the caller is told.
 */
export function resolveLauncher(probe = spawnSync): { prefix: string[]; warning: string | null } {
  const prefix = ["setpriv", "--pdeathsig", "TERM"];
  const r = probe(prefix[0]!, [...prefix.slice(1), "true"], { stdio: "ignore" });
  if (r.status === 0) return { prefix, warning: null };
  return {
    prefix: [],
    warning: "setpriv --pdeathsig unavailable: an ffmpeg may outlive a node that is killed -9",
  };
}
