import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import cliProgress from "cli-progress";
import { ConfigError, loadOptions } from "../platform/config/config.js";
import { createS3Client } from "../platform/s3/s3-client.js";
import { parseS3Url } from "../platform/s3/s3-url.js";
import { isName, isReserved } from "../contract/names.js";

// labx fetch SESSION --from s3://BUCKET/PREFIX --to DIR: a session's files from the store, as the nodes
// uploaded them (PREFIX/<node>/<session>/<file>), into DIR/<node>/<session>/. Every file is checked
// against the sha256 the node stored in its metadata; a file already there and right is kept, a
// partial download (.part) continues where it stopped, a wrong one is fetched again.

export const storeSchema = {
  endpoint: {
    doc: "The store's endpoint for stores other than AWS.",
    format: String,
    default: "",
    arg: "endpoint",
    env: "LABX_STORE_ENDPOINT",
  },
  region: {
    doc: "The store's region.",
    format: String,
    default: "us-east-1",
    arg: "region",
    env: "LABX_STORE_REGION",
  },
};

const fetchSchema = {
  from: { doc: "s3://BUCKET/PREFIX the nodes upload to.", format: String, default: "", arg: "from" },
  to: { doc: "Folder to fetch into: one folder per node.", format: String, default: "", arg: "to" },
  ...storeSchema,
};

export const FETCH_USAGE = `usage: labx fetch SESSION --from s3://BUCKET/PREFIX --to DIR [--endpoint URL] [--region R]
(credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a credentials file)`;

export interface FetchResult {
  files: number;
  fetched: number;
  kept: number;
  bytes: number;
  nodes: string[];
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * Pure: where an object's key puts it under --to, or null for a key that is not PREFIX/<node>/<session>/<file>
 * with a node id and a plain file name (a key such as PREFIX/../x would write outside --to).
 */
export function localPathOf(
  key: string,
  prefix: string,
  session: string,
): { node: string; file: string } | null {
  if (prefix && !key.startsWith(`${prefix}/`)) return null;
  const rest = (prefix ? key.slice(prefix.length + 1) : key).split("/");
  if (rest.length !== 3 || rest[1] !== session) return null;
  const [node, , file] = rest as [string, string, string];
  if (
    !isName(node) ||
    isReserved(node) ||
    !/^[A-Za-z0-9_.-]{1,255}$/.test(file) ||
    file === "." ||
    file === ".."
  )
    return null;
  return { node, file };
}

/** The session's objects: keys PREFIX/<node>/<session>/<file>. */
async function listSession(
  s3: S3Client,
  bucket: string,
  prefix: string,
  session: string,
  refused: (key: string) => void,
) {
  const out: { key: string; node: string; file: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix ? `${prefix}/` : undefined,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      const at = localPathOf(o.Key!, prefix, session);
      if (at) out.push({ key: o.Key!, ...at, size: o.Size ?? 0 });
      else if (o.Key!.split("/").includes(session)) refused(o.Key!);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function fetchSession(
  o: { from: string; to: string; endpoint: string; region: string },
  session: string,
  progress: NodeJS.WritableStream | null,
  warn: (text: string) => void,
): Promise<FetchResult> {
  const { bucket, prefix } = parseS3Url(o.from);
  const s3 = createS3Client({ endpoint: o.endpoint, region: o.region });
  try {
    const objects = await listSession(s3, bucket, prefix, session, (key) =>
      warn(
        `skipped ${JSON.stringify(key)}: not PREFIX/<node>/<session>/<file>, it would be written outside --to`,
      ),
    );
    if (objects.length === 0) throw new ConfigError(`nothing of session ${session} under ${o.from}`);
    const total = objects.reduce((s, x) => s + x.size, 0);
    const bar = progress
      ? new cliProgress.SingleBar({
          stream: progress,
          format: "{bar} {percentage}% {value}/{total} bytes {file}",
        })
      : null;
    bar?.start(total, 0, { file: "" });
    const result: FetchResult = { files: objects.length, fetched: 0, kept: 0, bytes: 0, nodes: [] };
    let done = 0;
    for (const x of objects) {
      const dir = path.join(o.to, x.node, session);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, x.file);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: x.key }));
      const want = head.Metadata?.sha256;
      if (existsSync(file) && statSync(file).size === x.size && (!want || (await sha256Of(file)) === want)) {
        result.kept++;
      } else {
        const part = `${file}.part`;
        const have = existsSync(part) ? statSync(part).size : 0;
        const from = have < x.size ? have : 0;
        const got = await s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: x.key,
            ...(from > 0 ? { Range: `bytes=${from}-` } : {}),
          }),
        );
        await pipeline(got.Body as Readable, createWriteStream(part, { flags: from > 0 ? "a" : "w" }));
        const sha = await sha256Of(part);
        if (want && sha !== want) {
          renameSync(part, `${file}.bad`);
          throw new Error(`${x.key}: fetched bytes have sha256 ${sha}, the store's record says ${want}`);
        }
        renameSync(part, file);
        result.fetched++;
        result.bytes += x.size;
      }
      done += x.size;
      bar?.update(done, { file: x.file });
      if (!result.nodes.includes(x.node)) result.nodes.push(x.node);
    }
    bar?.stop();
    return result;
  } finally {
    s3.destroy();
  }
}

export async function runFetch(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
): Promise<number> {
  const [session, ...rest] = argv;
  if (!session || session.startsWith("--")) throw new ConfigError(`a session is needed\n${FETCH_USAGE}`);
  const o = loadOptions<{ from: string; to: string; endpoint: string; region: string }>(
    fetchSchema,
    rest,
    env,
  );
  if (!o.from.startsWith("s3://") || !o.to)
    throw new ConfigError(`--from s3://… and --to are needed\n${FETCH_USAGE}`);
  const r = await fetchSession(o, session, process.stderr.isTTY ? process.stderr : null, (t) =>
    process.stderr.write(`labx fetch: ${t}\n`),
  );
  out.write(
    `${session}: ${r.files} files of ${r.nodes.length} nodes (${r.nodes.join(", ")}): ${r.fetched} fetched (${(r.bytes / 1048576).toFixed(1)} MiB), ${r.kept} already there; every one matches its sha256\n`,
  );
  return 0;
}
