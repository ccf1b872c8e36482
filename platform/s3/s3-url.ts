// Pure, and free of the AWS SDK (which costs a node ~20 MiB and ~120 ms to load): what an s3:// URL names.

/** Pure: s3://BUCKET/PREFIX → bucket and prefix (no leading or trailing slash; "" for the root). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/^\/+|\/+$/g, "") };
}
