import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** PIDs of processes whose working directory is inside dir (ffmpeg runs in the session folder). */
export function processesIn(dir: string, comm?: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readlinkSync(`/proc/${p}/cwd`).startsWith(dir)) continue;
      if (comm && readFileSync(`/proc/${p}/comm`, "utf8").trim() !== comm) continue;
      pids.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
