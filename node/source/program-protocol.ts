// Pure: what labx and a sensor program (`--source command`) say to each other (docs/sensors.md).
// labx gives the program its session in the environment; the program writes each batch and a file of
// its sample times into LABX_OUT_DIR and says so, one JSON line per event on stdout:
//   {"started": <epoch_s of the first sample>}
//   {"batch": "<file>", "times": "<times file>"[, "end": <epoch_s where the batch ends>][, "last": true]}
// Other stdout lines are the program's own (logged). labx asks it to stop by closing its stdin
// (after writing "q"), then SIGTERM, then SIGKILL.

export interface CommandSession {
  node: string;
  session: string;
  outDir: string;
  batchDurationS: number;
  /** The session's grid zero (epoch µs): `at`, or the first run's start; batches are cut on zero + k × batch. */
  zeroUs: number;
  /** labx ends the session at zero + duration; null: until stop. */
  durationS: number | null;
  /** The batch number the run starts with (a restarted program continues the numbering). */
  firstSeq: number;
  /** Which run of the session this is (0, then 1, 2… after restarts). */
  run: number;
}

/** Epoch µs as seconds with 6 decimals (the sidecars' epoch_s). */
export const epochText = (us: number): string => (us / 1e6).toFixed(6);

/** The program's environment, added to the node's own. */
export function programEnv(s: CommandSession): Record<string, string> {
  return {
    LABX_NODE: s.node,
    LABX_SESSION: s.session,
    LABX_OUT_DIR: s.outDir,
    LABX_BATCH_DURATION: String(s.batchDurationS),
    LABX_START_EPOCH_S: epochText(s.zeroUs),
    LABX_DURATION: s.durationS === null ? "" : String(s.durationS),
    LABX_FIRST_SEQ: String(s.firstSeq),
    LABX_RUN: String(s.run),
  };
}

export type ProgramLine =
  | { kind: "started"; firstUs: number }
  | { kind: "batch"; file: string; times: string; endUs: number | null; last: boolean }
  | { kind: "text"; text: string }
  | { kind: "invalid"; why: string };

/** A file the program names: a plain name in LABX_OUT_DIR, never a path out of it. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

const isEpoch = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;

/** One line of the program's stdout. */
export function parseProgramLine(line: string): ProgramLine {
  const text = line.trim();
  if (!text.startsWith("{")) return { kind: "text", text };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { kind: "invalid", why: `not JSON: ${text.slice(0, 120)}` };
  }
  if (v === null || typeof v !== "object") return { kind: "invalid", why: "not a JSON object" };
  if ("started" in v) {
    if (!isEpoch(v.started)) return { kind: "invalid", why: "started: expected epoch seconds" };
    return { kind: "started", firstUs: Math.round(v.started * 1e6) };
  }
  if ("batch" in v) {
    for (const key of ["batch", "times"] as const) {
      const name = v[key];
      if (typeof name !== "string" || !FILE_NAME.test(name) || name.includes(".."))
        return {
          kind: "invalid",
          why: `${key}: expected a file name in LABX_OUT_DIR, got ${JSON.stringify(name)}`,
        };
    }
    if (v.batch === v.times) return { kind: "invalid", why: "batch and times name the same file" };
    if (v.end !== undefined && !isEpoch(v.end))
      return { kind: "invalid", why: "end: expected epoch seconds" };
    return {
      kind: "batch",
      file: v.batch as string,
      times: v.times as string,
      endUs: v.end === undefined ? null : Math.round(v.end * 1e6),
      last: v.last === true,
    };
  }
  return { kind: "invalid", why: `neither started nor batch: ${text.slice(0, 120)}` };
}

/** A batch's times: every sample's (epoch µs, ascending), or only where it starts and ends. */
export type SampleTimes =
  | { kind: "samples"; samplesUs: number[] }
  | { kind: "span"; startUs: number; endUs: number; samples: number };

/** epoch_s text ("1764680000.123456") as µs, exactly (no float rounding of the digits). */
function epochUs(text: string, where: string): number {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new Error(`${where}: ${JSON.stringify(text)} is not epoch seconds`);
  return Number(m[1]) * 1e6 + Math.round(Number(`0.${m[2] ?? "0"}`) * 1e6);
}

/**
 * A times file: CSV with a header. Either a column `epoch_s` (one row per sample, the camera's sidecar
 * format: frame,batch_frame,pts_s,epoch_s,… or just epoch_s), or the columns `start_epoch_s` and
 * `end_epoch_s` (one row; an optional `samples` column counts them). Throws what is wrong, with its line.
 */
export function parseSampleTimes(text: string): SampleTimes {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const header = (lines[0] ?? "").split(",").map((c) => c.trim());
  const rows = lines.slice(1).map((l) => l.split(","));
  const col = (name: string): number => header.indexOf(name);
  if (col("epoch_s") >= 0) {
    const i = col("epoch_s");
    const samplesUs = rows.map((r, n) => epochUs(r[i] ?? "", `line ${n + 2}`));
    if (samplesUs.length === 0) throw new Error("no sample rows");
    for (let n = 1; n < samplesUs.length; n++)
      if (samplesUs[n]! < samplesUs[n - 1]!) throw new Error(`line ${n + 2}: times go back`);
    return { kind: "samples", samplesUs };
  }
  if (col("start_epoch_s") >= 0 && col("end_epoch_s") >= 0) {
    if (rows.length !== 1) throw new Error(`a start/end pair is one row, found ${rows.length}`);
    const r = rows[0]!;
    const startUs = epochUs(r[col("start_epoch_s")] ?? "", "line 2 start_epoch_s");
    const endUs = epochUs(r[col("end_epoch_s")] ?? "", "line 2 end_epoch_s");
    if (endUs < startUs) throw new Error("line 2: end_epoch_s is before start_epoch_s");
    const s = col("samples") >= 0 ? Number(r[col("samples")]) : 0;
    if (!Number.isInteger(s) || s < 0) throw new Error("line 2: samples is not a count");
    return { kind: "span", startUs, endUs, samples: s };
  }
  throw new Error(
    `the header ${JSON.stringify(lines[0] ?? "")} has neither epoch_s nor start_epoch_s,end_epoch_s`,
  );
}

/**
 * Where a batch of samples ends: where the program says, else one sample interval (the batch's median)
 * after its last sample; a single sample ends where it starts.
 */
export function batchEndUs(samplesUs: readonly number[], statedEndUs: number | null): number {
  const last = samplesUs.at(-1)!;
  if (statedEndUs !== null) return Math.max(statedEndUs, last);
  const gaps = samplesUs
    .slice(1)
    .map((t, i) => t - samplesUs[i]!)
    .sort((a, b) => a - b);
  return last + (gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0);
}

/** The extension labx keeps for a program's batch file (its format), `bin` when it has none. */
export function batchExtension(programFile: string): string {
  return /\.([A-Za-z0-9]{1,8})$/.exec(programFile)?.[1]?.toLowerCase() ?? "bin";
}
