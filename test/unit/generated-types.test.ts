import assert from "node:assert/strict";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  generateSchemas,
  generatedSchemasFile,
  generateTypes,
  generatedFile,
} from "../../scripts/gen-types.js";
import { ERROR_CODES } from "../../contract/reply-codes.js";
import { ROOT, tempDir } from "../helpers/node.js";

const SCHEMAS_DIR = path.join(ROOT, "schemas");

describe("schemas are the single source of truth", () => {
  it("contract/generated/payloads.ts is what the schemas generate (run npm run gen:types)", async () => {
    assert.equal(readFileSync(generatedFile, "utf8"), await generateTypes());
  });

  it("contract/generated/schemas.ts holds schemas/ as written (run npm run gen:types)", async () => {
    assert.equal(readFileSync(generatedSchemasFile, "utf8"), await generateSchemas());
  });

  it("the error code table and the reply schema list the same codes", () => {
    const reply = JSON.parse(
      readFileSync(new URL("../../schemas/reply.schema.json", import.meta.url), "utf8"),
    );
    assert.deepEqual(
      [...reply.definitions.ErrorReply.properties.code.enum].sort(),
      Object.keys(ERROR_CODES).sort(),
    );
    for (const c of [
      "INVALID_JSON",
      "INVALID_PAYLOAD",
      "UNKNOWN_CMD",
      "ALREADY_RECORDING",
      "NOT_RECORDING",
      "BAD_SCHEDULE",
      "CAMERA_UNAVAILABLE",
      "DISK_FULL",
      "INTERNAL",
    ])
      assert.ok(c in ERROR_CODES, `contract code ${c}`);
  });
});

describe("generated docs", () => {
  it("docs/errors.md and docs/configuration.md are what their sources generate (run npm run gen:docs)", async () => {
    const { renderErrors, errorsDoc, renderConfig, configDoc } = await import("../../scripts/gen-docs.js");
    assert.equal(readFileSync(errorsDoc, "utf8"), renderErrors());
    assert.equal(
      readFileSync(configDoc, "utf8"),
      renderConfig(),
      "docs/configuration.md is stale: npm run gen:docs",
    );
  });

  it("docs/mqtt-api.md is what schemas/ generate, and follows a schema change", async () => {
    const { renderApiDoc, apiDoc } = await import("../../scripts/gen-docs.js");
    const { renderApi } = await import("../../scripts/render-api-doc.js");
    assert.equal(readFileSync(apiDoc, "utf8"), renderApiDoc(), "docs/mqtt-api.md is stale: npm run gen:docs");
    const dir = tempDir();
    for (const f of readdirSync(SCHEMAS_DIR)) copyFileSync(path.join(SCHEMAS_DIR, f), path.join(dir, f));
    const batch = JSON.parse(readFileSync(path.join(dir, "batch.schema.json"), "utf8")) as {
      properties: Record<string, object>;
    };
    batch.properties.lens_mm = { type: "number", description: "Focal length of the lens." };
    writeFileSync(path.join(dir, "batch.schema.json"), JSON.stringify(batch));
    assert.match(renderApi(dir), /\| `lens_mm` \| number \| {2}\| Focal length of the lens\. \|/);
  });
});
