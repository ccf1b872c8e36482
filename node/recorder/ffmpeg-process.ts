import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createInterface } from "node:readline";

export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How the stop ended: asked with 'q', or signalled after the polite request timed out. */
  forced: "none" | "SIGTERM" | "SIGKILL";
}

/**
 * One ffmpeg child: lines out, polite stop in. Spawned without a shell, in its own process group
 * so a terminal's Ctrl+C reaches the node, which then stops ffmpeg in order. If the node dies
 * hard, ffmpeg's next write to our closed stdout fails and it exits: no orphan holds the camera.
 */
export class FfmpegProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private forced: Exit["forced"] = "none";
  private stopping: Promise<Exit> | null = null;
  private readonly killOnExit = (): void => {
    this.child.kill("SIGKILL");
  };

  constructor(
    file: string,
    args: readonly string[],
    cwd: string,
    handlers: { stdout: (line: string) => void; stderr: (line: string) => void },
    spawn: SpawnFn = nodeSpawn,
  ) {
    this.child = spawn(file, args, { cwd, stdio: ["pipe", "pipe", "pipe"], detached: true, shell: false });
    createInterface({ input: this.child.stdout! }).on("line", handlers.stdout);
    createInterface({ input: this.child.stderr! }).on("line", handlers.stderr);
    // A closed stdin must not throw into the node (EPIPE when ffmpeg already left).
    this.child.stdin!.on("error", () => {});
    process.on("exit", this.killOnExit);
    this.exited = new Promise((resolve) => {
      let stdoutClosed = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      const done = (): void => {
        if (!stdoutClosed || !exit) return;
        process.off("exit", this.killOnExit);
        resolve({ ...exit, forced: this.forced });
      };
      // Resolve only when every line has been read: the last batch's list entry may still be in the pipe.
      this.child.stdout!.on("close", () => {
        stdoutClosed = true;
        done();
      });
      this.child.on("error", () => {
        exit ??= { code: null, signal: null };
        stdoutClosed = true;
        done();
      });
      this.child.on("exit", (code, signal) => {
        exit = { code, signal };
        done();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** 'q' lets ffmpeg write its trailers; then SIGTERM, then SIGKILL, each after timeoutMs. Idempotent. */
  stop(timeoutMs: number): Promise<Exit> {
    this.stopping ??= (async () => {
      const exitedWithin = async (ms: number): Promise<boolean> => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
        const result = await Promise.race([this.exited.then(() => true), timeout]);
        clearTimeout(timer);
        return result;
      };
      this.child.stdin!.end("q");
      if (await exitedWithin(timeoutMs)) return this.exited;
      this.forced = "SIGTERM";
      this.child.kill("SIGTERM");
      if (await exitedWithin(timeoutMs)) return this.exited;
      this.forced = "SIGKILL";
      this.child.kill("SIGKILL");
      return this.exited;
    })();
    return this.stopping;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
