import { parseS3Url } from "../../platform/s3/s3-url.js";

export { parseS3Url };

// Pure: where a node's files go in the store. `--upload-url s3://BUCKET/PREFIX`; every object is
// PREFIX/<node>/<session>/<file name>, so a node's write-only policy can be scoped to PREFIX/<node>/.

export type S3Location = ReturnType<typeof parseS3Url>;

export function objectKey(loc: S3Location, node: string, session: string, file: string): string {
  const name = file.split("/").at(-1)!;
  return [loc.prefix, node, session, name].filter((p) => p !== "").join("/");
}
