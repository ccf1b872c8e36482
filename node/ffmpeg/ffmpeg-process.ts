import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { FileTail } from "./file-tail.js";
import { realTimers, type Timers } from "../../platform/timers.js";

export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How the stop ended: asked with 'q', or signalled after the polite request timed out. */
  forced: "none" | "SIGTERM" | "SIGKILL";
}

export interface FfmpegIo {
  /** ffmpeg's stdout goes to this file (kept: it is the session's timeline), read back line by line. */
  stdoutFile: string;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Exec'ed before ffmpeg (see launcher.ts); empty to spawn ffmpeg directly. */
  launcher?: readonly string[];
  /** The stop ladder's waits and the output polling (platform/timers.ts). */
  timers?: Timers;
}

/**
 * One ffmpeg child: lines out, polite stop in. Spawned without a shell, in its own process group
 * so a terminal's Ctrl+C reaches the node, which then stops ffmpeg in order. If the node dies
 * hard, the launcher's parent-death signal ends ffmpeg: no orphan holds the camera.
 */
export class FfmpegProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private forced: Exit["forced"] = "none";
  private stopping: Promise<Exit> | null = null;
  private readonly killOnExit = (): void => {
    this.child.kill("SIGKILL");
  };

  private readonly tail: FileTail;
  private readonly timers: Timers;

  constructor(file: string, args: readonly string[], cwd: string, io: FfmpegIo, spawn: SpawnFn = nodeSpawn) {
    const out = openSync(io.stdoutFile, "w");
    try {
      const [launch, ...launchArgs] = [...(io.launcher ?? []), file];
      this.child = spawn(launch!, [...launchArgs, ...args], {
        cwd,
        stdio: ["pipe", out, "pipe"],
        detached: true,
        shell: false,
      });
    } finally {
      closeSync(out);
    }
    this.timers = io.timers ?? realTimers;
    this.tail = new FileTail(io.stdoutFile, io.stdout, this.timers);
    this.tail.start(20);
    createInterface({ input: this.child.stderr! }).on("line", io.stderr);
    // A closed stdin must not throw into the node (EPIPE when ffmpeg already left).
    this.child.stdin!.on("error", () => {});
    process.on("exit", this.killOnExit);
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        process.off("exit", this.killOnExit);
        // Every line ffmpeg wrote is in the file now: read the rest before anyone hears of the exit.
        this.tail.stop();
        resolve({ code, signal, forced: this.forced });
      };
      // 'close' comes after 'exit' once stderr is drained too; 'error' alone when spawn failed.
      this.child.on("close", done);
      this.child.on("error", () => done(null, null));
    });
  }

  /** How often new ffmpeg output is read; fast while waiting for the first frame, slow after. */
  pollEvery(ms: number): void {
    this.tail.start(ms);
  }

  /** 'q' lets ffmpeg write its trailers; then SIGTERM, then SIGKILL, each after timeoutMs. Idempotent. */
  stop(timeoutMs: number): Promise<Exit> {
    this.stopping ??= (async () => {
      const exitedWithin = async (ms: number): Promise<boolean> => {
        let timer: unknown;
        const timeout = new Promise<false>((r) => (timer = this.timers.setTimeout(() => r(false), ms)));
        const result = await Promise.race([this.exited.then(() => true), timeout]);
        this.timers.clearTimeout(timer);
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
}
