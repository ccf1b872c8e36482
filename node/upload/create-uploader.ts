import type { Logger } from "pino";
import type { NodeEvent } from "../../contract/generated/payloads.js";
import type { Config } from "../../platform/config/config.js";
import { parseS3Url } from "./s3-location.js";
import type { S3Store, StoreOptions } from "./s3-store.js";
import { Uploader, type UploadBacklog } from "./uploader.js";
import type { Clock } from "../../platform/clock.js";

/** The node's uploader for --upload-url, or null without one. */
export function createUploader(
  config: Config,
  deps: {
    log: Logger;
    event: (e: Omit<NodeEvent, "node" | "at">) => void;
    onBacklog: (b: UploadBacklog) => void;
    /** Folders of the data directory that are not sessions (the outbox journal's). */
    reserved: readonly string[];
    clock: Clock;
  },
): Uploader | null {
  if (!config.upload_url) return null;
  const location = parseS3Url(config.upload_url);
  const store = lazyStore({
    bucket: location.bucket,
    endpoint: config.upload_endpoint,
    region: config.upload_region,
    partBytes: config.upload_part_mb * 1024 * 1024,
  });
  return new Uploader({
    dataDir: config.data_dir,
    node: config.sbc_id,
    location,
    store,
    isSession: (name) => !deps.reserved.includes(name) && !name.startsWith("."),
    log: deps.log,
    event: deps.event,
    onBacklog: deps.onBacklog,
    drainMs: config.stop_timeout * 1000,
    clock: deps.clock,
  });
}

/**
 * The store, the AWS SDK under it loaded at its first use (~20 MiB and ~120 ms): a node without
 * --upload-url never loads it, one with it only once the uploader starts.
 */
export function lazyStore(o: StoreOptions): Pick<S3Store, "upload" | "bucket" | "credentialsReady"> {
  let store: Promise<S3Store> | null = null;
  const get = (): Promise<S3Store> => (store ??= import("./s3-store.js").then((m) => new m.S3Store(o)));
  return {
    bucket: o.bucket,
    credentialsReady: async () => (await get()).credentialsReady(),
    upload: async (key, file, sha256) => (await get()).upload(key, file, sha256),
  };
}
