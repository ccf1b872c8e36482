// docs/benchmarks.md is made of sections, each rewritten by its own bench script, so one script
// can be rerun without losing the others' figures.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DOC = path.join(root, "docs", "benchmarks.md");

export function machine(): string {
  const ffmpeg = execFileSync("ffmpeg", ["-version"]).toString().split("\n")[0];
  return `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${ffmpeg}, Node ${process.version}`;
}

export function writeSection(name: string, markdown: string): void {
  let doc: string;
  try {
    doc = readFileSync(DOC, "utf8");
  } catch {
    doc = "";
  }
  if (!doc.startsWith("# Benchmarks"))
    doc = `# Benchmarks\n\nWritten by \`npm run bench\`; each section by its own script under bench/, with the run's date.\nThe machine is shared and noisy: compare figures within one section, not across days.\n`;
  const begin = `<!-- section:${name} -->`;
  const end = `<!-- /section:${name} -->`;
  const block = `${begin}\n${markdown.trim()}\n\n_Measured ${new Date().toISOString()} on ${machine()}._\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, doc);
  console.log(`wrote docs/benchmarks.md § ${name}`);
}
