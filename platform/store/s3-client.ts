import { S3Client } from "@aws-sdk/client-s3";

// The one way labx builds an S3 client, for the node's uploads and the researcher's fetch: path-style
// addressing with an endpoint (MinIO, Ceph, Swift), plain bodies (stores other than AWS refuse the
// SDK's default aws-chunked bodies with CRC32 trailers, 501/411), credentials from the SDK's chain
// (AWS_ACCESS_KEY_ID…, a credentials file) unless given.

export interface S3ClientOptions {
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The SDK's own retries; the uploader retries itself (1). */
  maxAttempts?: number;
}

export function createS3Client(o: S3ClientOptions): S3Client {
  // The SDK is pinned (package.json) to a release that supports Node 20; its notice that later
  // releases will not would otherwise go to stderr at every start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
  });
}
