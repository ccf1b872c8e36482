import type { ControllerLink } from "./ctl-client.js";
import { sleep, type TimerHandle } from "../platform/timers.js";
import type { Clock } from "../platform/clock.js";
import type { Validators } from "../contract/schemas.js";
import { applyMessage, fleetTopics, type FleetView } from "../platform/control/fleet-view.js";
import { renderWatch, watchJson } from "./render.js";

export interface WatchOptions {
  baseTopic: string;
  settleMs: number;
  json: boolean;
  once: boolean;
  color: boolean;
  validators: Validators;
  /** Replaces the live table (log-update on a terminal); called with each new frame. */
  draw: (frame: string) => void;
  /** Writes one line (JSON mode, --once). */
  print: (line: string) => void;
  until: Promise<unknown>;
  /** Redraw each second even without news (ages and progress move): on a terminal, not into a pipe. */
  tick: boolean;
  refreshMs?: number;
  clock: Clock;
}

/**
 * `labx watch`: the fleet as retained and live messages tell it. The table is redrawn on every
 * change and each second (ages and progress move on their own); --json prints one snapshot per
 * change instead, for a script reading lines.
 */
export async function watch(client: ControllerLink, o: WatchOptions): Promise<void> {
  const now = (): Date => new Date(o.clock.now());
  const view: FleetView = new Map();
  let changed = false;
  const onMessage = (topic: string, payload: Buffer): void => {
    if (applyMessage(view, o.baseTopic, topic, payload, o.validators).kind === "view") changed = true;
  };
  const off = client.onMessage(onMessage);
  const { clock } = o;
  let timer: TimerHandle | null = null;
  try {
    await client.subscribe(fleetTopics(o.baseTopic));
    await sleep(clock, o.settleMs);
    const frame = (): void => {
      if (o.json) o.print(JSON.stringify(watchJson(view, now())));
      else o.draw(renderWatch(view, now(), o.color));
      changed = false;
    };
    if (o.once) {
      if (o.json) frame();
      else o.print(renderWatch(view, now(), o.color));
      return;
    }
    frame();
    let ticks = 0;
    const period = o.refreshMs ?? 250;
    timer = clock.setInterval(() => {
      ticks += 1;
      if (changed || (o.tick && !o.json && ticks % Math.max(1, Math.round(1000 / period)) === 0)) frame();
    }, period);
    await o.until;
  } finally {
    if (timer) clock.clearInterval(timer);
    off();
  }
}
