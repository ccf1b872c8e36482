// Who may try to log in to the dashboard, and how often: a rate per address, and anonymous logins from
// another host only with --allow-anonymous (the embedded broker takes anonymous clients from this
// machine, which is where the dashboard's connections come from: it must not lend that to the network).
import { isLoopbackAddress, RateLimiter } from "../platform/net/rate-limit.js";

export interface LoginGuardOptions {
  allowAnonymousRemote: boolean;
  /** Login attempts one address may make at once, then `perMinute`. */
  burst: number;
  perMinute: number;
  /** Milliseconds, any monotonic origin (rate-limit.ts). */
  monotonicMs: () => number;
}

export type LoginVerdict =
  { ok: true } | { ok: false; status: 401 | 429; code: string; message: string; retryAfterS?: number };

export class LoginGuard {
  private readonly rate: RateLimiter;

  constructor(private readonly o: LoginGuardOptions) {
    this.rate = new RateLimiter({
      burst: o.burst,
      perSecond: o.perMinute / 60,
      maxKeys: 10_000,
      monotonicMs: o.monotonicMs,
    });
  }

  check(address: string | undefined, anonymous: boolean): LoginVerdict {
    const key = address ?? "";
    if (!this.rate.take(key))
      return {
        ok: false,
        status: 429,
        code: "TOO_MANY_LOGINS",
        message: "too many login attempts from this address; wait a minute",
        retryAfterS: this.rate.retryAfterS(key),
      };
    if (anonymous && !this.o.allowAnonymousRemote && !isLoopbackAddress(address))
      return {
        ok: false,
        status: 401,
        code: "UNAUTHORIZED",
        message: "log in with a user name and password (labx credentials shows the lab's)",
      };
    return { ok: true };
  }
}
