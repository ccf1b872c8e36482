/**
 * The V8 flags `labx node` runs with wherever labx starts it for a lab — the systemd unit
 * (deploy/pi/labx.service), scripts/start.sh, `npm start` — and in the benchmarks; a unit test keeps
 * them equal. Measured at 1080p (docs/benchmarks.md, issue 19): peak RSS 85.7 MiB without them,
 * 74.8 with a 1 MiB young generation, 71.3 with one V8 worker thread, 63.2 in lite mode (no
 * optimizing compiler: the node's JavaScript is a few milliseconds per batch; sha256 and ffmpeg are
 * native). Lite mode also turns WebAssembly off, which `labx node` never uses (`labx verify` does: it
 * is not started with these flags). Each is accepted by every supported Node.js (20.19+, 22, 24).
 */
export const NODE_V8_FLAGS = ["--max-semi-space-size=1", "--v8-pool-size=1", "--lite-mode"] as const;

/**
 * Node.js 20 and 22 warn on every start that lite mode turns WebAssembly off unless told so; Node.js
 * 24's V8 has no such flag and refuses to start with it. The shell launchers decide alike
 * (scripts/lib/node-runtime.sh, node_wasm_flag).
 */
export const NO_WASM_FLAG = "--no-expose-wasm";

/** Pure: the flags for the Node.js of that version (`process.versions.node`). */
export function nodeV8Flags(nodeVersion: string): string[] {
  const major = Number(nodeVersion.replace(/^v/, "").split(".")[0]);
  return major < 24 ? [...NODE_V8_FLAGS, NO_WASM_FLAG] : [...NODE_V8_FLAGS];
}
