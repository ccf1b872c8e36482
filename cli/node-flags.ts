/**
 * The V8 flags `labx node` runs with wherever labx starts it for a lab — the systemd unit
 * (deploy/pi/labx.service), scripts/start.sh, `npm start` — and in the benchmarks; a unit test keeps
 * them equal. Measured at 1080p (docs/benchmarks.md, issue 19): peak RSS 85.7 MiB without them,
 * 74.8 with a 1 MiB young generation, 71.3 with one V8 worker thread, 63.2 in lite mode (no
 * optimizing compiler: the node's JavaScript is a few milliseconds per batch; sha256 and ffmpeg are
 * native). Lite mode also turns WebAssembly off, which `labx node` never uses (`labx verify` does: it
 * is not started with these flags).
 */
export const NODE_V8_FLAGS = [
  "--max-semi-space-size=1",
  "--v8-pool-size=1",
  "--lite-mode",
  // Said explicitly: lite mode turns it off anyway, with a warning on every start otherwise.
  "--no-expose-wasm",
] as const;
