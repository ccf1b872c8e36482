import { execFile } from "node:child_process";
import { parseSources, parseTracking } from "./chrony-parse.js";
import type { ReadChrony } from "./chrony-client.js";

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

/** A reading through chronyc: for chronyd's Unix socket, which Node.js cannot speak to (no Unix datagrams). */
export function chronycReader(o: ChronycOptions): ReadChrony {
  const run = chronycRunner(o);
  return async () => {
    const [tracking, sources] = await Promise.all([run("tracking"), run("sources")]);
    return { tracking: parseTracking(tracking), sources: parseSources(sources) };
  };
}
