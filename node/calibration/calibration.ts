// The camera's latency correction (docs/time.md): --latency-ms when configured, else the value
// `labx verify --save` sent in a `calibrate` command, kept in the data directory across restarts. A
// session takes the value in effect when it starts and keeps it to its end.
import { readFileSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { writeSynced } from "../../platform/durable/durable-write.js";
import type { Clock } from "../../platform/clock.js";

/** In the data directory; its dot keeps it out of the session folders' names. */
export const CALIBRATION_FILE = ".labx-calibration.json";

export interface Latency {
  ms: number;
  /** config: --latency-ms; verify: saved by a calibrate command (labx verify --save). */
  source: "config" | "verify";
}

interface Saved {
  latency_ms: number;
  session?: string;
  saved_at: string;
}

const isSaved = (v: unknown): v is Saved =>
  typeof (v as Saved)?.latency_ms === "number" &&
  Number.isFinite((v as Saved).latency_ms) &&
  (v as Saved).latency_ms >= 0 &&
  typeof (v as Saved).saved_at === "string";

export class Calibration {
  private saved: Saved | null = null;
  private readonly file: string;

  constructor(
    private readonly o: { dataDir: string; configuredMs: number | null; log: Logger; clock: Clock },
  ) {
    this.file = path.join(o.dataDir, CALIBRATION_FILE);
    this.saved = this.read();
  }

  private read(): Saved | null {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch {
      return null;
    }
    try {
      const v: unknown = JSON.parse(text);
      if (isSaved(v)) return v;
    } catch {
      // reported below
    }
    this.o.log.warn({ file: this.file }, "the saved latency calibration is unreadable: ignored");
    return null;
  }

  /** The correction a session starting now applies, or null for none. */
  get effective(): Latency | null {
    if (this.o.configuredMs !== null) return { ms: this.o.configuredMs, source: "config" };
    return this.saved ? { ms: this.saved.latency_ms, source: "verify" } : null;
  }

  /** Keeps `ms` (null: forgets it), on disk before this resolves: written aside, fsynced, renamed. */
  async save(ms: number | null, session?: string): Promise<void> {
    if (ms === null) {
      await rm(this.file, { force: true });
      this.saved = null;
    } else {
      const saved: Saved = {
        latency_ms: ms,
        ...(session ? { session } : {}),
        saved_at: new Date(this.o.clock.now()).toISOString(),
      };
      await writeSynced(`${this.file}.tmp`, JSON.stringify(saved) + "\n");
      await rename(`${this.file}.tmp`, this.file);
      this.saved = saved;
    }
    if (this.o.configuredMs !== null)
      this.o.log.warn(
        { latency_ms: ms, configured_ms: this.o.configuredMs },
        "latency calibration saved; --latency-ms is configured and stays in effect",
      );
    else this.o.log.info({ latency_ms: ms, session }, "latency calibration saved");
  }
}
