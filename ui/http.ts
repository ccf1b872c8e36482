// The dashboard's HTTP plumbing: its headers, its errors, what every POST is held to.
import type { IncomingMessage } from "node:http";

const MAX_BODY = 16 * 1024;
export const HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A POST from another site is refused (the cookie is SameSite=Strict as well). */
export function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin && originHost(origin) !== req.headers.host)
    throw new HttpError(403, "FORBIDDEN", "requests from other sites are refused");
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? ""))
    throw new HttpError(415, "BAD_REQUEST", "send JSON (application/json)");
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "BAD_REQUEST", "request too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "the request is not JSON");
  }
}
