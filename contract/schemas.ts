import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type {
  BatchReady,
  CameraMemory,
  ClockStatus,
  Command,
  FleetClock,
  LabCredentials,
  NodeEvent,
  NodeState,
  PreviewMeta,
  Reply,
  SyncCertificate,
} from "./generated/payloads.js";

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

export const SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "schemas");
const schemasDir = (): string => {
  // Running from source (contract/) or from the build (dist/contract/): schemas/ sits at the package root.
  const fromSource = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "schemas");
  try {
    readdirSync(fromSource);
    return fromSource;
  } catch {
    return SCHEMAS_DIR;
  }
};

export interface Validators {
  command: ValidateFunction<Command>;
  reply: ValidateFunction<Reply>;
  state: ValidateFunction<NodeState>;
  batch: ValidateFunction<BatchReady>;
  event: ValidateFunction<NodeEvent>;
  clock: ValidateFunction<ClockStatus>;
  fleetClock: ValidateFunction<FleetClock>;
  preview: ValidateFunction<PreviewMeta>;
  /** sync-certificate.json, a file (labx verify), not a message. */
  certificate: ValidateFunction<SyncCertificate>;
  /** .labx/credentials.json, a file (broker/lab-credentials.ts). */
  labCredentials: ValidateFunction<LabCredentials>;
  /** .labx/cameras.json, a file (node/camera/camera-memory.ts). */
  cameraMemory: ValidateFunction<CameraMemory>;
}

/** Compiles every schema once; create one set in the composition root and pass it down. */
export function createValidators(): Validators {
  const ajv = new Ajv({ allErrors: false, discriminator: true, strict: true, strictTypes: false });
  addFormats(ajv);
  const dir = schemasDir();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".schema.json"))) {
    const schema = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { $id: string };
    ajv.addSchema(schema, file);
  }
  // Each validator is compiled at its first use (ajv's code generation is most of a node's start-up
  // CPU; a node only ever checks commands), then kept.
  const files: Record<keyof Validators, string> = {
    command: "command.schema.json",
    reply: "reply.schema.json",
    state: "state.schema.json",
    batch: "batch.schema.json",
    event: "event.schema.json",
    clock: "clock.schema.json",
    fleetClock: "fleet-clock.schema.json",
    preview: "preview.schema.json",
    certificate: "sync-certificate.schema.json",
    labCredentials: "lab-credentials.schema.json",
    cameraMemory: "camera-memory.schema.json",
  };
  const validators = {} as Validators;
  for (const [key, file] of Object.entries(files))
    Object.defineProperty(validators, key, {
      enumerable: true,
      get: () => {
        const fn = ajv.getSchema(file)!;
        Object.defineProperty(validators, key, { value: fn, enumerable: true });
        return fn;
      },
      configurable: true,
    });
  return validators;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return "invalid";
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "payload";
  if (e.keyword === "additionalProperties")
    return `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  return `${where} ${e.message ?? "is invalid"}`;
}
