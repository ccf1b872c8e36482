import { readFileSync, readdirSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { TimerHandle } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";
import { isName } from "../../contract/names.js";
import { sessionDir } from "./paths.js";
import { SESSION_END_FILE, type SessionEnd } from "./session-files.js";

export interface SessionInfo {
  name: string;
  bytes: number;
  /** Epoch ms the session ended; null while it has not (recording, or interrupted and not recovered). */
  endedAtMs: number | null;
  /** Some of its batch announcements still wait in the outbox. */
  undelivered: boolean;
}

export interface RetentionPolicy {
  /** 0: no age limit. */
  retentionDays: number;
  /** 0: no size limit. */
  maxUsageBytes: number;
}

/**
 * Pure: the sessions to remove, oldest first. Only finished sessions whose announcements were all
 * delivered are ever candidates (never the current one, which has not ended). First those older than
 * the age limit, then more of the oldest while the data directory is above the size limit.
 */
export function chooseRemovals(
  sessions: readonly SessionInfo[],
  nowMs: number,
  p: RetentionPolicy,
): string[] {
  const candidates = sessions
    .filter((s) => s.endedAtMs !== null && !s.undelivered)
    .sort((a, b) => a.endedAtMs! - b.endedAtMs! || a.name.localeCompare(b.name));
  const removed = new Set<string>();
  if (p.retentionDays > 0) {
    const cutoff = nowMs - p.retentionDays * 86_400_000;
    for (const s of candidates) if (s.endedAtMs! < cutoff) removed.add(s.name);
  }
  if (p.maxUsageBytes > 0) {
    let total = sessions.filter((s) => !removed.has(s.name)).reduce((n, s) => n + s.bytes, 0);
    for (const s of candidates) {
      if (total <= p.maxUsageBytes) break;
      if (removed.has(s.name)) continue;
      removed.add(s.name);
      total -= s.bytes;
    }
  }
  return candidates.filter((s) => removed.has(s.name)).map((s) => s.name);
}

/**
 * Pure: after `removed`, the data directory still over the size limit while finished sessions are kept
 * only because they are not yet delivered or uploaded: those sessions and their bytes; else null.
 */
export function heldOverLimit(
  sessions: readonly SessionInfo[],
  removed: readonly string[],
  p: RetentionPolicy,
): { sessions: string[]; bytes: number } | null {
  if (p.maxUsageBytes <= 0) return null;
  const left = sessions.filter((s) => !removed.includes(s.name));
  const total = left.reduce((n, s) => n + s.bytes, 0);
  const held = left.filter((s) => s.endedAtMs !== null && s.undelivered);
  if (total <= p.maxUsageBytes || held.length === 0) return null;
  return { sessions: held.map((s) => s.name), bytes: held.reduce((n, s) => n + s.bytes, 0) };
}

/** Reads the session folders of a data directory (the files directly in each folder). */
export function scanSessions(dataDir: string, undelivered: ReadonlySet<string>): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const name of readdirSync(dataDir)) {
    if (!isName(name)) continue;
    const dir = sessionDir(dataDir, name);
    if (!statSync(dir).isDirectory()) continue;
    let bytes = 0;
    for (const f of readdirSync(dir)) {
      const st = statSync(path.join(dir, f));
      if (st.isFile()) bytes += st.size;
    }
    let endedAtMs: number | null = null;
    try {
      const end = JSON.parse(readFileSync(path.join(dir, SESSION_END_FILE), "utf8")) as SessionEnd;
      endedAtMs = Date.parse(end.ended_at);
      if (Number.isNaN(endedAtMs)) endedAtMs = null;
    } catch {
      // not ended (or not a session of ours): never removed
    }
    out.push({ name, bytes, endedAtMs, undelivered: undelivered.has(name) });
  }
  return out;
}

export interface RetentionDeps {
  dataDir: string;
  policy: RetentionPolicy;
  /** Sessions with batch announcements still in the outbox, or files not yet verified in the store. */
  undelivered: () => ReadonlySet<string>;
  /** Over --max-usage with sessions kept only because undelivered (heldOverLimit): say so. */
  onHeld?: (held: { sessions: string[]; bytes: number }) => void;
  log: Logger;
  intervalMs?: number;
  clock: Clock;
}

/** --retention-days / --max-usage: applied at start, after each session, and hourly. */
export class Retention {
  private timer: TimerHandle | null = null;
  private running: Promise<string[]> | null = null;
  private readonly clock: Clock;

  constructor(private readonly deps: RetentionDeps) {
    this.clock = deps.clock;
  }

  get enabled(): boolean {
    return this.deps.policy.retentionDays > 0 || this.deps.policy.maxUsageBytes > 0;
  }

  start(): void {
    if (this.timer || !this.enabled) return;
    this.timer = this.clock.setInterval(() => void this.apply(), this.deps.intervalMs ?? 3_600_000, {
      unref: true,
    });
  }

  stop(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** Removes what the policy says; never throws. Returns the removed session names. */
  apply(): Promise<string[]> {
    if (!this.enabled) return Promise.resolve([]);
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<string[]> {
    const { deps } = this;
    try {
      const sessions = scanSessions(deps.dataDir, deps.undelivered());
      const names = chooseRemovals(sessions, deps.clock.now(), deps.policy);
      for (const name of names) {
        await rm(sessionDir(deps.dataDir, name), { recursive: true, force: true });
        deps.log.info({ session: name }, "retention: session removed");
      }
      const held = heldOverLimit(sessions, names, deps.policy);
      if (held) {
        deps.log.warn(
          { sessions: held.sessions, bytes: held.bytes },
          "retention: over the limit, keeping what is not delivered or uploaded yet",
        );
        deps.onHeld?.(held);
      }
      return names;
    } catch (err) {
      deps.log.error({ err }, "retention failed");
      return [];
    }
  }
}
