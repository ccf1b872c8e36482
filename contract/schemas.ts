import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
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
import { SCHEMAS } from "./generated/schemas.js";

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

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
  // The schemas as schemas/ has them, generated into the build (scripts/gen-types.ts): no file is read.
  for (const [file, schema] of Object.entries(SCHEMAS)) ajv.addSchema(schema, file);
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
