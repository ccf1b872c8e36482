// Generates docs/errors.md from the one table of reply codes, docs/configuration.md from the
// convict schema and docs/mqtt-api.md from schemas/. `--check` fails when any is stale.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { ERROR_CODES } from "../contract/reply-codes.js";
import { configSchema } from "../platform/config/config-schema.js";
import { renderApi } from "./render-api-doc.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const errorsDoc = path.join(root, "docs", "errors.md");
export const configDoc = path.join(root, "docs", "configuration.md");
export const apiDoc = path.join(root, "docs", "mqtt-api.md");
export const renderApiDoc = (): string => renderApi(path.join(root, "schemas"));

export function renderErrors(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, text]) => `| \`${code}\` | ${text} |`);
  return [
    "# Reply error codes",
    "",
    "Generated from `contract/reply-codes.ts` by `npm run gen:docs`; do not edit by hand.",
    'A refused command gets `{"id", "cmd", "node", "ok": false, "code", "message"}` on `labx/<node>/reply`.',
    "Codes are stable; messages are for people and may change.",
    "",
    "| code | when |",
    "|---|---|",
    ...rows,
    "",
  ].join("\n");
}

export function renderConfig(): string {
  const cell = (v: string): string => v.replace(/\|/g, "\\|");
  const rows = Object.entries(configSchema()).map(
    ([key, o]) =>
      `| \`${key}\` | \`--${o.arg}\` | \`${o.env}\` | \`${cell(JSON.stringify(o.default))}\` | ${cell(o.doc)} |`,
  );
  return [
    "# Configuration reference",
    "",
    "Generated from `platform/config/config-schema.ts` and `platform/config/config-schema-mqtt.ts` by `npm run gen:docs`; do not edit by hand.",
    "Every option is a flag, an environment variable and a key of a `--config` JSON file; flags win over",
    "the environment, which wins over the file. Values are checked once at start: a bad one exits with",
    "code 2 and one line naming the key.",
    "",
    "| key | flag | environment | default | meaning |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const docs: [string, string][] = [
    [errorsDoc, renderErrors()],
    [configDoc, renderConfig()],
    [apiDoc, renderApiDoc()],
  ];
  for (const [file, text] of docs) {
    const name = path.relative(root, file);
    if (process.argv.includes("--check")) {
      if ((await readFile(file, "utf8").catch(() => "")) !== text) {
        console.error(`${name} is stale: run npm run gen:docs`);
        process.exit(1);
      }
    } else {
      await writeFile(file, text);
      console.log(`wrote ${name}`);
    }
  }
}
