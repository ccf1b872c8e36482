// Pure: where a node's files go in the store. `--upload-url s3://BUCKET/PREFIX`; every object is
// PREFIX/<node>/<session>/<file name>, so a node's write-only policy can be scoped to PREFIX/<node>/.

export interface S3Location {
  bucket: string;
  /** Without leading or trailing slashes; "" for the bucket's root. */
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/^\/+|\/+$/g, "") };
}

export function objectKey(loc: S3Location, node: string, session: string, file: string): string {
  const name = file.split("/").at(-1)!;
  return [loc.prefix, node, session, name].filter((p) => p !== "").join("/");
}
