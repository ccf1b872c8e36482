// One camera kind through a node, measured against its ground truth (bench/camera-kinds.ts): a session
// of `seconds` in 1 s batches, every recorded frame matched to the frame the camera sent, then
// `starts` short sessions timing command → reply and command → first frame.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import type { BatchReady } from "../contract/generated/payloads.js";
import { readManifest } from "../node/data/manifest.js";
import { readAttempts } from "../node/data/session-files.js";
import { frameNumbers } from "../test/helpers/fake-camera.js";
import { keyFlags, mjpegBytes } from "../test/helpers/media.js";
import type { BenchCamera, TruthFrame } from "./camera-kinds.js";
import { freePort, labxNodeArgs, sleep, waitPort } from "./util.js";

export interface KindResult {
  /** |recorded − sent| per frame, µs. */
  frameErrors: number[];
  /** Mean signed error, µs (positive: recorded after sent). */
  meanSigned: number;
  /** |batch start − the camera's send time of its first frame|, µs. */
  startErrors: number[];
  recorded: number;
  /** Frames the camera sent between the first and the last recorded one that no batch holds. */
  lost: number;
  /** |a full batch's length − 1 s| (H.264 copy: − the keyframe grid's distance), µs. */
  lengthErrors: number[];
  /** Batches not opening at the first frame (keyframe) at or after the first frame + k s. */
  misplaced: number;
  timeSource: string;
  resolutionUs: number;
  replyMs: number[];
  firstFrameMs: number[];
  batches: number;
}

const PERIOD_US = 1e6 / 30;
const isoUs = (iso: string): number =>
  Math.floor(Date.parse(iso) / 1000) * 1e6 + Number(/\.(\d+)Z$/.exec(iso)![1]!.padEnd(6, "0"));

function sidecarTimes(dataDir: string, b: BatchReady): number[] {
  return readFileSync(path.join(dataDir, b.frames_file), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((r) => Math.round(Number(r.split(",")[3]) * 1e6));
}

/** Each recorded time's truth: by the frame number it carries, or the nearest sent frame in time. */
function match(truth: TruthFrame[], times: number[], ids: (number | null)[]): (TruthFrame | undefined)[] {
  const byId = new Map(truth.filter((t) => t.id !== null).map((t) => [t.id!, t]));
  const sorted = [...truth].sort((a, b) => a.us - b.us);
  const nearest = (us: number): TruthFrame | undefined => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.us < us) lo = mid + 1;
      else hi = mid;
    }
    const cands = [sorted[lo - 1], sorted[lo]].filter((t): t is TruthFrame => t !== undefined);
    return cands.sort((a, b) => Math.abs(a.us - us) - Math.abs(b.us - us))[0];
  };
  return times.map((us, i) => (ids[i] !== null && ids[i] !== undefined ? byId.get(ids[i]!) : nearest(us)));
}

export interface KindRunOptions {
  /** The node's --video-size. */
  videoSize?: string;
  /** The session's batch length (s). */
  batchDuration?: number;
  /** A launcher the node runs under (e.g. taskset -c 1). */
  launcher?: string[];
  /** Called with the node's pid at once, before it starts any ffmpeg (e.g. to put it in a cgroup). */
  confine?: (pid: number) => void;
}

export async function runKind(
  root: string,
  camera: BenchCamera,
  dataDir: string,
  seconds: number,
  starts: number,
  o: KindRunOptions = {},
): Promise<KindResult> {
  const port = await freePort();
  const batchS = o.batchDuration ?? 1;
  const args = labxNodeArgs(root, port, [
    "--sbc-id",
    "B",
    "--camera",
    camera.camera,
    "--data-dir",
    dataDir,
    "--video-size",
    o.videoSize ?? "640x480",
  ]);
  const [command, ...rest] = [...(o.launcher ?? []), process.execPath, ...args];
  const node = spawn(command!, rest, { stdio: "ignore" });
  o.confine?.(node.pid!);
  // Until its broker listens (a confined node, bench/pizero.ts, takes seconds).
  await waitPort(port);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  const seen: { topic: string; at: number; body: Record<string, unknown> }[] = [];
  let online = false;
  client.on("message", (topic, payload) => {
    if (topic === "labx/B/availability") online = payload.toString() === "online";
    if (!/\/(reply|event|batch)$/.test(topic)) return;
    seen.push({ topic, at: Date.now(), body: JSON.parse(payload.toString()) as Record<string, unknown> });
  });
  await client.subscribeAsync("labx/B/#", { qos: 1 });
  const until = async (pred: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await sleep(50);
  };
  // Its broker may listen before the node hears its commands: `online` says it does.
  await until(() => online, 60_000);
  if (!online) throw new Error("the node never said online");
  const session = async (name: string, duration: number): Promise<{ sentAt: number; replyAt: number }> => {
    const sentAt = Date.now();
    await client.publishAsync(
      "labx/B/cmd",
      JSON.stringify({ cmd: "start", id: name, session: name, duration, batch_duration: batchS }),
      { qos: 1 },
    );
    await until(() => seen.some((m) => m.topic === "labx/B/reply" && m.body.id === name), 15_000);
    const reply = seen.find((m) => m.topic === "labx/B/reply" && m.body.id === name);
    if (reply?.body.ok === false) throw new Error(`start ${name} refused: ${JSON.stringify(reply.body)}`);
    const replyAt = reply?.at ?? NaN;
    await until(
      () =>
        seen.some(
          (m) => m.topic === "labx/B/event" && m.body.type === "session_ended" && m.body.session === name,
        ),
      (duration + 30) * 1000,
    );
    return { sentAt, replyAt };
  };
  try {
    await session("gt", seconds);
    const batches = readManifest(path.join(dataDir, "gt", "manifest.jsonl"));
    const truth = camera.truth();
    const times: number[] = [];
    const ids: (number | null)[] = [];
    const starts_: { k: number; index: number }[] = [];
    const keys: boolean[] = [];
    for (const b of batches) {
      const t = sidecarTimes(dataDir, b);
      starts_.push({ k: b.seq, index: times.length });
      times.push(...t);
      const file = path.join(dataDir, b.file);
      if (camera.tagged) {
        const bytes = mjpegBytes(file);
        ids.push(...frameNumbers(bytes));
      } else ids.push(...t.map(() => null));
      keys.push(...(camera.keyframesOnly ? keyFlags(file) : t.map(() => true)));
    }
    const matched = match(truth, times, ids);
    const pairs = matched.map((m, i) => (m ? times[i]! - m.us : NaN));
    const frameErrors =
      camera.kind === "synthetic" ? [] : pairs.filter((e) => !Number.isNaN(e)).map(Math.abs);
    const signed = pairs.filter((e) => !Number.isNaN(e));
    const used = new Set(matched.filter(Boolean));
    const window = truth.filter((t) => {
      const m = matched.filter((x): x is TruthFrame => x !== undefined);
      return m.length > 0 && t.us >= m[0]!.us && t.us <= m.at(-1)!.us;
    });
    // The synthetic camera's schedule is its truth: a step of more than 1.5 periods is a lost frame.
    const lost =
      camera.kind === "synthetic"
        ? times.slice(1).reduce((n, t, i) => n + Math.max(0, Math.round((t - times[i]!) / PERIOD_US) - 1), 0)
        : window.filter((t) => !used.has(t)).length;
    // Where the contract puts batch k: at the first frame (keyframe, for H.264 copy) at or after the
    // session's zero + k s. A batch that opens elsewhere is misplaced; a full batch's length is
    // compared with 1 s (with the keyframe grid's distance, for H.264 copy).
    // The grid's zero: ffmpeg's timeline zero, the first frame it read (attempts record, anchor_us).
    const zero = readAttempts(path.join(dataDir, "gt"))[0]!.anchor_us;
    const expected = starts_.map(({ k }) =>
      times.findIndex((t, i) => t >= zero + k * batchS * 1e6 && keys[i]),
    );
    const misplaced = starts_.filter(({ index }, j) => j > 0 && index !== expected[j]).length;
    // Full batches: from the second (the first opens at the first frame recorded) to the last but one.
    const lengthErrors = starts_.slice(1, -1).map(({ index }, i) => {
      const j = i + 1;
      const length = times[starts_[j + 1]!.index]! - times[index]!;
      const due = camera.keyframesOnly ? times[expected[j + 1]!]! - times[expected[j]!]! : batchS * 1e6;
      return Math.abs(length - due);
    });
    const startErrors =
      camera.kind === "synthetic"
        ? []
        : starts_.map(({ index }) => Math.abs(pairs[index]!)).filter((e) => !Number.isNaN(e));
    const replyMs: number[] = [];
    const firstFrameMs: number[] = [];
    for (let i = 0; i < starts; i++) {
      const { sentAt, replyAt } = await session(`s${i}`, 1);
      replyMs.push(replyAt - sentAt);
      const first = seen.find((m) => m.topic === "labx/B/batch" && m.body.session === `s${i}`);
      if (first) firstFrameMs.push(isoUs(String(first.body.start)) / 1000 - sentAt);
      await sleep(300);
    }
    return {
      frameErrors,
      meanSigned: signed.length ? signed.reduce((a, b) => a + b, 0) / signed.length : 0,
      startErrors,
      recorded: times.length,
      lost,
      lengthErrors,
      misplaced,
      timeSource: batches[0]?.time_source ?? "?",
      resolutionUs: batches[0]?.time_resolution_us ?? NaN,
      replyMs,
      firstFrameMs,
      batches: batches.length,
    };
  } finally {
    await client.endAsync();
    node.kill("SIGTERM");
    await new Promise((r) => (node.exitCode !== null ? r(null) : node.on("exit", r)));
  }
}
