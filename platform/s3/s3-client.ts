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
  // The SDK's notice about Node.js releases is silenced at start (platform/config/environment.ts).
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
  });
}
