// The upload part of the convict schema (config-schema.ts): the S3-compatible store batches go to as
// they close (node/upload/). Credentials are never flags: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or
// an AWS credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials), read by the AWS SDK.

export const uploadSchema = {
  upload_url: {
    doc: "Upload every batch, its sidecar and the session's manifest as batches close, to s3://BUCKET/PREFIX (objects PREFIX/<node>/<session>/<file>); empty: no upload.",
    format: (v: unknown) => {
      if (v !== "" && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/.test(String(v)))
        throw new Error("must be s3://BUCKET or s3://BUCKET/PREFIX");
    },
    default: "",
    arg: "upload-url",
    env: "LABX_UPLOAD_URL",
  },
  upload_endpoint: {
    doc: "The store's endpoint for stores other than AWS (MinIO, Ceph, Swift), e.g. http://store:8080; addressed path-style.",
    format: String,
    default: "",
    arg: "upload-endpoint",
    env: "LABX_UPLOAD_ENDPOINT",
  },
  upload_region: {
    doc: "The store's region (signing).",
    format: String,
    default: "us-east-1",
    arg: "upload-region",
    env: "LABX_UPLOAD_REGION",
  },
  upload_part_mb: {
    doc: "Files larger than this go in multipart uploads of parts this size (MiB, at least 5), resumed part by part after a restart.",
    format: (v: unknown) => {
      if (!Number.isInteger(v) || (v as number) < 5)
        throw new Error("must be a whole number of MiB, at least 5");
    },
    default: 8,
    arg: "upload-part-mb",
    env: "LABX_UPLOAD_PART_MB",
  },
};
