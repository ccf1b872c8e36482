import { readFileSync } from "node:fs";

/** labx's own version, from package.json one folder up from platform/ (source) or two from dist/platform/ (build). */
export function labxVersion(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "labx" && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}
