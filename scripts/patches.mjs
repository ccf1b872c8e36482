#!/usr/bin/env node
// Applies the patches kept in patches/<package>+<version>/*.patch to node_modules, at `npm ci`
// (postinstall): small fixes to dependencies, each written as upstream would take it, each with its
// test and the upstream issue it answers (docs/reliability.md lists them). A patch whose package is
// at another version, or whose lines are not found, fails the install loudly; an applied patch is
// recognised and left as it is, so running it twice changes nothing. No dependency of its own.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Pure: `text` with the unified diff `diff` (one file, exact context) applied. Each hunk's old lines must
 * appear exactly once; a hunk whose new lines already appear once counts as applied.
 * Returns { text, applied } where applied counts the hunks changed now; throws what does not fit.
 * @param {string} text
 * @param {string} diff
 * @returns {{ text: string, applied: number }}
 */
export function applyPatch(text, diff) {
  const hunks = [];
  for (const line of diff.split("\n")) {
    if (line.startsWith("@@")) hunks.push({ old: [], new: [] });
    else if (hunks.length && !line.startsWith("\\")) {
      const h = hunks[hunks.length - 1];
      if (line.startsWith("-")) h.old.push(line.slice(1));
      else if (line.startsWith("+")) h.new.push(line.slice(1));
      else if (line.startsWith(" ") || line === "") {
        h.old.push(line.slice(1));
        h.new.push(line.slice(1));
      }
    }
  }
  if (hunks.length === 0) throw new Error("no hunk in the patch");
  let applied = 0;
  for (const [i, h] of hunks.entries()) {
    // A trailing blank line of the diff file is not context.
    while (h.old.length && h.new.length && h.old.at(-1) === "" && h.new.at(-1) === "") {
      h.old.pop();
      h.new.pop();
    }
    const oldText = h.old.join("\n");
    const newText = h.new.join("\n");
    const count = (s) => text.split(s).length - 1;
    if (count(newText) === 1) {
      // already applied (checked first: an insertion keeps its old lines as context)
    } else if (count(oldText) === 1) {
      text = text.replace(oldText, () => newText);
      applied++;
    } else {
      throw new Error(`hunk ${i + 1}: its lines are found ${count(oldText)} times (expected once)`);
    }
  }
  return { text, applied };
}

/**
 * Pure: a git-style diff cut into its files, each `{ target, diff }` (target from `+++ b/<path>`).
 * @param {string} diff
 * @returns {{ target: string, diff: string }[]}
 */
export function filesOf(diff) {
  const parts = diff.split(/^(?=--- a\/)/m).filter((part) => part.startsWith("--- a/"));
  if (parts.length === 0) throw new Error("no --- a/<file> line");
  return parts.map((part) => {
    const m = /^\+\+\+ b\/(\S+)/m.exec(part);
    if (!m) throw new Error("no +++ b/<file> line");
    return { target: m[1], diff: part };
  });
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const dir = path.join(root, "patches");
  if (!existsSync(dir)) return;
  for (const folder of readdirSync(dir).sort()) {
    const at = folder.lastIndexOf("+");
    const [name, version] = [folder.slice(0, at), folder.slice(at + 1)];
    const pkgDir = path.join(root, "node_modules", ...name.split("/"));
    const installed = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
    if (installed !== version)
      throw new Error(`patches/${folder}: ${name} is ${installed} here, the patches are for ${version}`);
    for (const file of readdirSync(path.join(dir, folder))
      .filter((f) => f.endsWith(".patch"))
      .sort()) {
      // Every file of a patch is checked before any is written: a patch applies whole or not at all.
      const changed = filesOf(readFileSync(path.join(dir, folder, file), "utf8")).map(({ target, diff }) => {
        const where = path.join(pkgDir, target);
        try {
          return { where, ...applyPatch(readFileSync(where, "utf8"), diff) };
        } catch (err) {
          throw new Error(`patches/${folder}/${file} does not apply to ${where}: ${err.message}`);
        }
      });
      for (const { where, text, applied } of changed) if (applied) writeFileSync(where, text);
      const applied = changed.some((c) => c.applied);
      console.error(`labx: patches/${folder}/${file}: ${applied ? "applied" : "already applied"}`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
