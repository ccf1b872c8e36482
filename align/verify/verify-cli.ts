// labx verify SESSION_FOLDER… [--json] [--out DIR] [--save]: finds the time code (contract/timecode.ts)
// in each node's recorded frames, measures each camera's latency and the session's alignment after
// correcting it, and writes the sync certificate (JSON, and a PNG plot) into each session folder, or
// --out. --save sends each node its median latency (a calibrate command) over --broker-url.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { ConfigError, loadOptions } from "../../platform/config/config.js";
import { clientSchema } from "../../platform/config/config-schema-mqtt.js";
import { clientSecurity, type SecuritySettings } from "../../platform/mqtt/client-security.js";
import { connectVisitor } from "../../platform/mqtt/visitor.js";
import { sendCommand, type CommandResult } from "../../platform/control/send-command.js";
import { redactUrl } from "../../platform/secrets.js";
import type { Validators } from "../../contract/schemas.js";
import { readNodeSessions, type NodeSession } from "../session-reader.js";
import {
  buildCertificate,
  CERTIFICATE_FILE,
  PLOT_FILE,
  renderCertificate,
  type SyncCertificate,
} from "./certificate.js";
import { scanNode, type NodeScan } from "./frame-codes.js";
import { medianLatencyUs } from "./latency.js";
import { latencyPlotSvg } from "./latency-plot.js";
import { createQrReader } from "./qr-reader.js";
import { svgToPng } from "./svg-png.js";
import type { Clock } from "../../platform/clock.js";

const verifySchema = {
  json: { doc: "Print the certificate as JSON.", format: Boolean, default: false, arg: "json" },
  out: {
    doc: "Write the certificate here instead of into each session folder.",
    format: String,
    default: "",
    arg: "out",
  },
  stride: {
    doc: "While no code shows, read one frame in this many.",
    format: "nat",
    default: 15,
    arg: "stride",
  },
  max_codes: {
    doc: "Frames with a code read densely per node; past them, the stride only.",
    format: "nat",
    default: 3000,
    arg: "max-codes",
  },
  save: {
    doc: "Send each node its median latency (a calibrate command) over --broker-url.",
    format: Boolean,
    default: false,
    arg: "save",
  },
  ...clientSchema,
};

type VerifyOptions = { [K in keyof typeof verifySchema]: (typeof verifySchema)[K]["default"] };

export const VERIFY_USAGE = `usage: labx verify SESSION_FOLDER… [--json] [--out DIR] [--save --broker-url URL]
  SESSION_FOLDER: one node's folder of the session (its manifest.jsonl inside), or a folder holding them
  (a data directory, labx fetch's --to); every node of one session.
  ${Object.values(verifySchema)
    .filter((s) => !("env" in s))
    .map((s) => `--${s.arg.padEnd(10)} ${s.doc}`)
    .join("\n  ")}
  and the broker options of labx start (--broker-url, --broker-username, …) for --save.`;

/** The session folders named by the arguments: each itself, or its sub-folders (two levels) with a manifest. */
export function sessionFolders(args: readonly string[]): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    if (existsSync(path.join(dir, "manifest.jsonl"))) return void found.push(path.resolve(dir));
    if (depth === 0) return;
    for (const d of readdirSync(dir).sort()) {
      const sub = path.join(dir, d);
      if (!d.startsWith(".") && statSync(sub).isDirectory()) visit(sub, depth - 1);
    }
  };
  for (const a of args) {
    if (!existsSync(a) || !statSync(a).isDirectory()) throw new ConfigError(`${a} is not a folder`);
    const before = found.length;
    visit(a, 2);
    if (found.length === before) throw new ConfigError(`no session folder (with a manifest.jsonl) in ${a}`);
  }
  return [...new Set(found)];
}

function readSessions(folders: readonly string[], io: VerifyIo): NodeSession[] {
  const sessions = readNodeSessions(folders, io.validators);
  for (const line of sessions.flatMap((n) => n.skipped)) io.stderr.write(`labx verify: skipped: ${line}\n`);
  const names = new Set(sessions.map((s) => s.batches[0]!.session));
  if (names.size > 1) throw new ConfigError(`the folders hold different sessions: ${[...names].join(", ")}`);
  return sessions;
}

export interface VerifyIo {
  ffmpegPath: string;
  validators: Validators;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The process's time port (platform/clock.ts). */
  clock: Clock;
  version: string;
}

/** Writes the certificate, its SVG and (where ffmpeg can draw it) its PNG into `dir`. */
async function writeCertificate(
  dir: string,
  cert: SyncCertificate,
  svg: string,
  ffmpegPath: string,
  warn: (m: string) => void,
): Promise<SyncCertificate> {
  mkdirSync(dir, { recursive: true });
  const svgFile = path.join(dir, PLOT_FILE.replace(/\.png$/, ".svg"));
  writeFileSync(svgFile, svg);
  try {
    await svgToPng(ffmpegPath, svgFile, path.join(dir, PLOT_FILE));
  } catch (err) {
    cert = { ...cert, plot: PLOT_FILE.replace(/\.png$/, ".svg") };
    warn(`the PNG plot could not be drawn (${(err as Error).message}); the SVG is written`);
  }
  writeFileSync(path.join(dir, CERTIFICATE_FILE), JSON.stringify(cert, null, 2) + "\n");
  return cert;
}

export async function runVerify(argv: string[], env: NodeJS.ProcessEnv, io: VerifyIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(VERIFY_USAGE + "\n");
    return 0;
  }
  const folders = argv.filter((a, i) => !a.startsWith("--") && (i === 0 || !isValueOf(argv, i)));
  const flags = argv.filter((a) => !folders.includes(a));
  if (folders.length === 0) throw new ConfigError(`a session folder is needed\n${VERIFY_USAGE}`);
  const o = loadOptions<VerifyOptions>(verifySchema, flags, env);
  if (o.stride < 1) throw new ConfigError("--stride must be 1 or more");
  const sessions = readSessions(sessionFolders(folders), io);
  const session = sessions[0]!.batches[0]!.session;
  const reader = await createQrReader();
  const scans: NodeScan[] = [];
  for (const s of sessions)
    scans.push(
      await scanNode(s, {
        ffmpegPath: io.ffmpegPath,
        reader,
        stride: o.stride,
        maxCodes: o.max_codes,
        maxWidth: 1280,
      }),
    );
  const built = buildCertificate({
    session,
    sessions,
    scans,
    createdAt: new Date(io.clock.now()),
    version: io.version,
    plot: PLOT_FILE,
  });
  const svg = latencyPlotSvg(built, new Map(scans.map((s) => [s.node, s.samples])));
  const warn = (m: string): void => void io.stderr.write(`labx verify: ${m}\n`);
  let cert = built;
  for (const dir of o.out ? [o.out] : sessions.map((s) => s.dir))
    cert = await writeCertificate(dir, built, svg, io.ffmpegPath, warn);
  for (const scan of scans)
    for (const m of scan.mismatched)
      warn(`${scan.node}: ${m.file} decodes to ${m.decoded} frames but its sidecar lists ${m.rows}: skipped`);
  io.stdout.write(o.json ? JSON.stringify(cert, null, 2) + "\n" : renderCertificate(cert));
  const missing = scans.filter((s) => s.samples.length === 0).map((s) => s.node);
  if (missing.length) warn(`no time code found in the frames of ${missing.join(", ")}`);
  if (o.save) {
    const saved = await saveLatencies(o, scans, session, io);
    if (!saved) return 1;
  }
  return missing.length ? 1 : 0;
}

/** `--name value`: is argv[i] the value of the flag before it (a flag without `=`, not a boolean)? */
function isValueOf(argv: readonly string[], i: number): boolean {
  const prev = argv[i - 1]!;
  const booleans = Object.values(verifySchema)
    .filter((s) => s.format === Boolean)
    .map((s) => `--${s.arg}`);
  return prev.startsWith("--") && !prev.includes("=") && !booleans.includes(prev.replace(/^--no-/, "--"));
}

/** Sends each node with codes its median latency; true when every node accepted it. */
async function saveLatencies(
  o: VerifyOptions,
  scans: readonly NodeScan[],
  session: string,
  io: VerifyIo,
): Promise<boolean> {
  const security = clientSecurity(o as unknown as SecuritySettings);
  let client;
  try {
    client = await connectVisitor({
      url: o.broker_url,
      clientId: `labx-verify-${process.pid}`,
      security,
      timeoutMs: 10_000,
      log: pino({ level: "silent" }),
      clock: io.clock,
    });
  } catch (err) {
    io.stderr.write(
      `labx verify: cannot reach the broker at ${redactUrl(o.broker_url)}: ${redactUrl((err as Error).message)}\n`,
    );
    return false;
  }
  let ok = true;
  try {
    for (const scan of scans.filter((s) => s.samples.length > 0)) {
      const latency_ms = Math.round(medianLatencyUs(scan.samples)) / 1000;
      const result: CommandResult = await sendCommand(client, {
        baseTopic: o.base_topic,
        target: scan.node,
        command: { cmd: "calibrate", latency_ms, session },
        timeoutMs: 10_000,
        settleMs: 500,
        validators: io.validators,
        clock: io.clock,
      });
      const row = result.rows[0];
      if (result.ok)
        io.stderr.write(
          `labx verify: ${scan.node} keeps a latency of ${latency_ms} ms for its next sessions\n`,
        );
      else {
        ok = false;
        io.stderr.write(
          `labx verify: ${scan.node} did not take the latency: ${row?.code ?? row?.outcome ?? "no reply"} ${row?.message ?? ""}\n`,
        );
      }
    }
  } finally {
    await client.stop();
  }
  return ok;
}
