// Pure: the Host names the dashboard answers to. A page under any other name (a DNS-rebinding site
// that resolves to this machine) is refused before anything is served or read.

/** The host part of a Host header, lower-cased, without port or IPv6 brackets; null when malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1]!;
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, "") : null;
}

/**
 * Whether a request's Host header names this machine: one of `allowed` (its names and addresses, and
 * --ui-allowed-hosts), or any name under .localhost.
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const host = hostOf(header);
  if (host === null) return false;
  return allowed.has(host) || host.endsWith(".localhost");
}
