// Pure: a token bucket per key (an address), bounded in the keys it remembers. The embedded broker
// limits connects per address with it, the dashboard logins per address. Time comes from `monotonicMs`.

export interface RateLimitOptions {
  /** Attempts a key may make at once. */
  burst: number;
  /** Attempts a key regains per second. */
  perSecond: number;
  /** Keys remembered at most; the least recently seen is forgotten first. */
  maxKeys: number;
  /** Milliseconds, any monotonic origin (performance.now): never the wall clock, whose steps would refill or drain buckets. */
  monotonicMs: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly o: RateLimitOptions) {
    if (!(o.burst >= 1 && o.perSecond > 0 && o.maxKeys >= 1)) throw new Error("invalid rate limit");
  }

  /** Takes one attempt for `key`: true when allowed. */
  take(key: string): boolean {
    const now = this.o.monotonicMs();
    const b = this.buckets.get(key) ?? { tokens: this.o.burst, at: now };
    b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.perSecond);
    b.at = now;
    // Re-inserted: the Map's order is the order keys were last seen.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.o.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until `key` may try again (0: now). */
  retryAfterS(key: string): number {
    const b = this.buckets.get(key);
    if (!b || b.tokens >= 1) return 0;
    return Math.ceil((1 - b.tokens) / this.o.perSecond);
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (what a dual-stack socket reports). */
export function isLoopbackAddress(address: string | undefined | null): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, "");
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
