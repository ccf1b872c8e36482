import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createS3Client } from "../../platform/s3/s3-client.js";

// The one adapter to the S3-compatible store. Every request carries its bytes as a Buffer with
// Content-MD5, and the SDK signs the payload's SHA-256: the store refuses bytes that differ from what
// the node read from its file (BadDigest, or a signature mismatch). A file larger than a part goes in a
// multipart upload that resumes: the parts already in the store are listed and each kept only when its
// ETag is the MD5 of the local part. After the upload the object is read back (HEAD): its size and the
// sha256 in its metadata must be the file's.

export interface StoreOptions {
  bucket: string;
  endpoint: string;
  region: string;
  partBytes: number;
  /** Tests: credentials in code; otherwise the SDK's chain (AWS_ACCESS_KEY_ID…, credentials file). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface UploadedObject {
  key: string;
  bytes: number;
  sha256: string;
  /** Parts reused from an interrupted multipart upload. */
  resumedParts: number;
}

export class VerificationError extends Error {}

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("base64");
const md5Hex = (b: Buffer): string => createHash("md5").update(b).digest("hex");

export class S3Store {
  private readonly client: S3Client;

  constructor(private readonly o: StoreOptions) {
    // Retries are the uploader's, with its own backoff, so a store outage never blocks a request long.
    this.client = createS3Client({ ...o, maxAttempts: 1 });
  }

  /**
   * Resolves the credentials now (the SDK's chain: environment, then the credentials file) rather
   * than at the first upload, so a node started without them says so at once; the SDK keeps them.
   */
  async credentialsReady(): Promise<void> {
    const provider = this.client.config.credentials;
    await provider();
  }

  get bucket(): string {
    return this.o.bucket;
  }

  /** Uploads `file` to `key` unless the store already holds it verified; returns what the store holds. */
  async upload(key: string, file: string, sha256: string): Promise<UploadedObject> {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      let resumedParts = 0;
      if (size <= this.o.partBytes) {
        const body = Buffer.alloc(size);
        await handle.read(body, 0, size, 0);
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.o.bucket,
            Key: key,
            Body: body,
            ContentMD5: md5(body),
            Metadata: { sha256 },
          }),
        );
      } else resumedParts = await this.multipart(key, handle, size, sha256);
      await this.verify(key, size, sha256);
      return { key, bytes: size, sha256, resumedParts };
    } finally {
      await handle.close();
    }
  }

  /** HEAD: the object's size and metadata sha256 are the file's, or VerificationError. */
  async verify(key: string, bytes: number, sha256: string): Promise<void> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key }));
    if (head.ContentLength !== bytes || head.Metadata?.sha256 !== sha256)
      throw new VerificationError(
        `${key}: the store holds ${head.ContentLength} bytes, sha256 ${head.Metadata?.sha256 ?? "none"}; expected ${bytes}, ${sha256}`,
      );
  }

  private async multipart(
    key: string,
    handle: Awaited<ReturnType<typeof open>>,
    size: number,
    sha256: string,
  ): Promise<number> {
    const Bucket = this.o.bucket;
    const listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: key }));
    const previous = (listed.Uploads ?? []).filter((u) => u.Key === key).at(-1);
    const uploadId =
      previous?.UploadId ??
      (await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, Metadata: { sha256 } })))
        .UploadId!;
    const stored = new Map<number, string>();
    if (previous) {
      const parts = await this.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId }));
      for (const p of parts.Parts ?? []) stored.set(p.PartNumber!, (p.ETag ?? "").replace(/"/g, ""));
    }
    const count = Math.ceil(size / this.o.partBytes);
    const done: { PartNumber: number; ETag: string }[] = [];
    let resumed = 0;
    for (let n = 1; n <= count; n++) {
      const offset = (n - 1) * this.o.partBytes;
      const body = Buffer.alloc(Math.min(this.o.partBytes, size - offset));
      await handle.read(body, 0, body.length, offset);
      if (stored.get(n) === md5Hex(body)) {
        done.push({ PartNumber: n, ETag: `"${stored.get(n)}"` });
        resumed++;
        continue;
      }
      const part = await this.client.send(
        new UploadPartCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: body,
          ContentMD5: md5(body),
        }),
      );
      done.push({ PartNumber: n, ETag: part.ETag! });
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    return resumed;
  }

  close(): void {
    this.client.destroy();
  }
}
