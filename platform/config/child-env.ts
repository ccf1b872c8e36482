// Pure: the environment a node's children (ffmpeg recording, sensor programs, the preview decoder, the
// repair's ffmpeg) run with. Built
// from an allowlist, never by inheritance: the broker password (LABX_BROKER_PASSWORD), cloud keys
// (AWS_*) and whatever else the node's own environment holds reach a child only when --child-env names
// them.

/** What a program needs to find its tools, libraries, locale, time zone, temporary and runtime folders. */
const BASIC = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TERM",
  "LD_LIBRARY_PATH",
  "XDG_RUNTIME_DIR",
];
const BASIC_PREFIXES = ["LC_", "PYTHON"];

export function childEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  named: readonly string[],
): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (BASIC.includes(key) || BASIC_PREFIXES.some((p) => key.startsWith(p)) || named.includes(key))
      out[key] = value;
  }
  return Object.freeze(out);
}
