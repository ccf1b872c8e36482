// The dashboard's files: the page (ui/public, shipped in the package) and uPlot's build from its
// package. Read once at start and served from memory: no path from a request ever reaches the disk.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** ui/public at the package root, from the sources (ui/) or the build (dist/ui/). */
function publicDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, "public"), path.join(here, "..", "..", "ui", "public")]) {
    try {
      readFileSync(path.join(dir, "index.html"));
      return dir;
    } catch {
      // try the next
    }
  }
  throw new Error("the dashboard's files (ui/public) are missing from the package");
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** URL path → file, for every file the dashboard serves. */
export function loadStaticFiles(timecodeOnly = false): Map<string, StaticFile> {
  const dir = publicDir();
  const require = createRequire(import.meta.url);
  // The time code page needs no login and no broker: `labx timecode` serves it alone.
  const timecode: [string, string][] = [
    ["/timecode", path.join(dir, "timecode.html")],
    ["/assets/timecode.js", path.join(dir, "timecode.js")],
    ["/assets/timecode-format.js", path.join(dir, "timecode-format.js")],
    ["/assets/timecode.css", path.join(dir, "timecode.css")],
    ["/assets/qrcode.js", path.join(path.dirname(require.resolve("qrcode-generator")), "qrcode.mjs")],
  ];
  if (timecodeOnly) timecode.push(["/", path.join(dir, "timecode.html")]);
  const files: [string, string][] = timecodeOnly
    ? timecode
    : [
        ...timecode,
        ["/", path.join(dir, "index.html")],
        ["/assets/app.js", path.join(dir, "app.js")],
        ["/assets/app-render.js", path.join(dir, "app-render.js")],
        ["/assets/app-plot.js", path.join(dir, "app-plot.js")],
        ["/assets/app.css", path.join(dir, "app.css")],
        ["/assets/uplot.js", require.resolve("uplot/dist/uPlot.iife.min.js")],
        ["/assets/uplot.css", require.resolve("uplot/dist/uPlot.min.css")],
      ];
  return new Map(
    files.map(([url, file]) => [
      url,
      { type: TYPES[path.extname(file)] ?? "application/octet-stream", body: readFileSync(file) },
    ]),
  );
}
