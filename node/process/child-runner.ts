import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { FileTail } from "./file-tail.js";
import type { Clock } from "../../platform/clock.js";

export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/**
 * `spawn` with every child's environment built from `base` (platform/config/child-env.ts) and the
 * child's own variables, never the node's whole environment.
 */
export function spawnWithEnvironment(spawn: SpawnFn, base: Readonly<Record<string, string>>): SpawnFn {
  return (file, args, options) => spawn(file, args, { ...options, env: { ...base, ...options.env } });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How the stop ended: asked with 'q', or signalled after the polite request timed out. */
  forced: "none" | "SIGTERM" | "SIGKILL";
}

export interface ChildIo {
  /** ffmpeg's stdout goes to this file (kept: it is the session's timeline), read back line by line. */
  stdoutFile: string;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Exec'ed before ffmpeg (see launcher.ts); empty to spawn ffmpeg directly. */
  launcher?: readonly string[];
  /** The stop ladder's waits and the output polling (platform/clock.ts). */
  clock: Clock;
  /** Added to the node's environment (a sensor program's session: node/source/). */
  env?: Record<string, string>;
}

/**
 * One ffmpeg child: lines out, polite stop in. Spawned without a shell, in its own process group
 * so a terminal's Ctrl+C reaches the node, which then stops ffmpeg in order. If the node dies
 * hard, the launcher's parent-death signal ends ffmpeg: no orphan holds the camera.
 */
export class ChildRunner {
  /** Resolves when the process has ended (at once for one stopped before it started). */
  readonly exited: Promise<Exit>;
  private child: ChildProcess | null = null;
  private forced: Exit["forced"] = "none";
  private stopping: Promise<Exit> | null = null;
  private resolveExit!: (exit: Exit) => void;
  private readonly killOnExit = (): void => {
    this.child?.kill("SIGKILL");
  };

  private readonly tail: FileTail;
  private readonly clock: Clock;

  /** Spawns nothing: start() does. */
  constructor(
    private readonly file: string,
    private readonly args: readonly string[],
    private readonly cwd: string,
    private readonly io: ChildIo,
    private readonly spawn: SpawnFn = nodeSpawn,
  ) {
    this.clock = io.clock;
    this.tail = new FileTail(io.stdoutFile, io.stdout, this.clock);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Spawns ffmpeg, its stdout into the timeline file. Idempotent; throws if the file cannot be made. */
  start(): void {
    if (this.child || this.stopping) return;
    const out = openSync(this.io.stdoutFile, "w");
    let child: ChildProcess;
    try {
      const [launch, ...launchArgs] = [...(this.io.launcher ?? []), this.file];
      child = this.spawn(launch!, [...launchArgs, ...this.args], {
        cwd: this.cwd,
        stdio: ["pipe", out, "pipe"],
        detached: true,
        shell: false,
        // Only the child's own variables: the spawn function adds the allowed rest (spawnWithEnvironment).
        ...(this.io.env ? { env: { ...this.io.env } } : {}),
      });
    } finally {
      closeSync(out);
    }
    this.child = child;
    this.tail.start(20);
    createInterface({ input: child.stderr! }).on("line", this.io.stderr);
    // A closed stdin must not throw into the node (EPIPE when ffmpeg already left).
    child.stdin!.on("error", () => {});
    process.on("exit", this.killOnExit);
    let ended = false;
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      process.off("exit", this.killOnExit);
      // Every line ffmpeg wrote is in the file now: read the rest before anyone hears of the exit.
      this.tail.stop();
      this.resolveExit({ code, signal, forced: this.forced });
    };
    // 'close' comes after 'exit' once stderr is drained too; 'error' alone when spawn failed.
    child.on("close", done);
    child.on("error", () => done(null, null));
  }

  /** How often new ffmpeg output is read; fast while waiting for the first frame, slow after. */
  pollEvery(ms: number): void {
    this.tail.start(ms);
  }

  /** 'q' lets ffmpeg write its trailers; then SIGTERM, then SIGKILL, each after timeoutMs. Idempotent. */
  stop(timeoutMs: number): Promise<Exit> {
    const child = this.child;
    if (!child) {
      // Never started: nothing to stop, and it will not start any more.
      this.stopping ??= Promise.resolve({ code: null, signal: null, forced: "none" as const });
      void this.stopping.then((exit) => this.resolveExit(exit));
      return this.stopping;
    }
    this.stopping ??= (async () => {
      const exitedWithin = async (ms: number): Promise<boolean> => {
        let timer: unknown;
        const timeout = new Promise<false>((r) => (timer = this.clock.setTimeout(() => r(false), ms)));
        const result = await Promise.race([this.exited.then(() => true), timeout]);
        this.clock.clearTimeout(timer);
        return result;
      };
      child.stdin!.end("q");
      if (await exitedWithin(timeoutMs)) return this.exited;
      this.forced = "SIGTERM";
      child.kill("SIGTERM");
      if (await exitedWithin(timeoutMs)) return this.exited;
      this.forced = "SIGKILL";
      child.kill("SIGKILL");
      return this.exited;
    })();
    return this.stopping;
  }
}
