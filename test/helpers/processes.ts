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

/** The PID of the first process named `comm` running in `dir`, polled every 100 ms up to `timeoutMs`. */
export async function waitForProcessIn(dir: string, comm: string, timeoutMs = 20_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [pid] = processesIn(dir, comm);
    if (pid) return pid;
    if (Date.now() > until) throw new Error(`no ${comm} in ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
