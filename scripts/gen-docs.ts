// Generates docs/errors.md from the one table of reply codes. `--check` fails when it is stale.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { ERROR_CODES } from "../node/commands/errors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const errorsDoc = path.join(root, "docs", "errors.md");

export function renderErrors(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, text]) => `| \`${code}\` | ${text} |`);
  return [
    "# Reply error codes",
    "",
    "Generated from `node/commands/errors.ts` by `npm run gen:docs`; do not edit by hand.",
    'A refused command gets `{"id", "cmd", "node", "ok": false, "code", "message"}` on `labx/<node>/reply`.',
    "Codes are stable; messages are for people and may change.",
    "",
    "| code | when |",
    "|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = renderErrors();
  if (process.argv.includes("--check")) {
    if ((await readFile(errorsDoc, "utf8").catch(() => "")) !== text) {
      console.error("docs/errors.md is stale: run npm run gen:docs");
      process.exit(1);
    }
  } else {
    await writeFile(errorsDoc, text);
    console.log("wrote docs/errors.md");
  }
}
