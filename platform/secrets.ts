// Secrets never leave the process: not on MQTT, not on disk, not in a log line. Pure functions; the
// node applies them where text leaves (logger, outbox, retained publishes) and where it is made
// (ffmpeg's stderr, error messages), so host and port stay visible and only the secret goes.

/** `scheme://user:password@host` → `scheme://***@host`: the user info is dropped whole. */
export function redactUrl(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s"'<>]+@/g, "$1***@");
}

/**
 * Each comma-separated broker URL without its user info: what a connection that must use someone
 * else's login is given (MQTT.js takes a URL's user name and password over the options').
 */
export function withoutUserInfo(urls: string): string {
  return urls
    .split(",")
    .map((u) => u.trim().replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/, "$1"))
    .join(",");
}

/** The secret parts of one URL: its password (and user info) as written and percent-decoded. */
export function urlSecrets(url: string): string[] {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/@\s]+)@/.exec(url);
  if (!m) return [];
  const userinfo = m[1]!;
  const colon = userinfo.indexOf(":");
  if (colon < 0) return [];
  const password = userinfo.slice(colon + 1);
  return [password, safeDecode(password)];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface SecretSources {
  camera?: string;
  broker_url?: string;
  broker_password?: string;
}

/**
 * Every secret a configuration holds, literal: URL passwords and the broker password; and the object
 * store's secret key and session token, which the node reads from the environment (docs/upload.md).
 */
export function configSecrets(c: SecretSources, env: Readonly<Record<string, string | undefined>>): string[] {
  return [
    ...urlSecrets(c.camera ?? ""),
    ...(c.broker_url ?? "").split(",").flatMap((u) => urlSecrets(u.trim())),
    ...(c.broker_password ? [c.broker_password] : []),
    ...[env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter((v): v is string => !!v),
  ];
}

/** Strips URL user info and every known secret (also as it appears JSON-escaped) from any text. */
export type Redact = (text: string) => string;

export function redactor(secrets: readonly string[]): Redact {
  // Shorter than 3 characters would blank ordinary text; such a password is no secret anyway.
  const literal = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
  const pattern =
    literal.length === 0
      ? null
      : new RegExp(literal.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  return (text) => {
    const out = redactUrl(text);
    return pattern ? out.replace(pattern, "***") : out;
  };
}
