import { execFile } from "node:child_process";

export interface ChronycOptions {
  path: string;
  /** A host (127.0.0.1) or a Unix socket path; chronyc's own default when null. */
  host: string | null;
  port: number | null;
  timeoutMs: number;
}

export type RunChronyc = (command: "tracking" | "sources") => Promise<string>;

/** `chronyc -c [-h host] [-p port] <command>`, spawned without a shell; rejects with chronyc's words. */
export function chronycRunner(o: ChronycOptions): RunChronyc {
  return (command) =>
    new Promise((resolve, reject) => {
      const args = [
        "-c",
        ...(o.host ? ["-h", o.host] : []),
        ...(o.port ? ["-p", String(o.port)] : []),
        command,
      ];
      execFile(o.path, args, { timeout: o.timeoutMs, shell: false }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why =
            code === "ENOENT"
              ? `${o.path} not found (is chrony installed?)`
              : (stdout + stderr).trim() || err.message;
          reject(new Error(why));
        } else resolve(stdout);
      });
    });
}
