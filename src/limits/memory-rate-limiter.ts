import type { RateDecision, RateLimit, RateLimiter } from './rate-limiter.js';
import { createTokenBucket, type TokenBucket } from '../lib/token-bucket.js';

export const defaultMemoryRateLimiterOptions = {
  sweepIntervalMs: 60_000, // how often buckets that refilled to their burst are dropped
};

/**
 * The single-node RateLimiter: a token bucket per key in a Map. A bucket that has refilled
 * to its burst is the same as a new one, so such buckets are dropped now and then: memory
 * follows the keys active within `sweepIntervalMs`, not every key ever seen.
 *
 * @example
 * const limiter = createMemoryRateLimiter({ perSecond: 1000, burst: 2000 });
 * const { ok, retryAfterMs } = await limiter.take(principal.keyId, frame.events.length);
 */
export function createMemoryRateLimiter(
  limit: RateLimit,
  options: Partial<typeof defaultMemoryRateLimiterOptions> = {},
  now = () => performance.now(),
): RateLimiter & { readonly size: number } {
  const { sweepIntervalMs } = { ...defaultMemoryRateLimiterOptions, ...options };
  const buckets = new Map<string, TokenBucket>();
  let lastSweep = now();
  const sweep = () => {
    if (now() - lastSweep < sweepIntervalMs) return;
    lastSweep = now();
    for (const [key, bucket] of buckets) if (bucket.full()) buckets.delete(key);
  };
  return {
    /** Buckets held (for tests of the sweep). */
    get size() {
      return buckets.size;
    },
    take(key: string, count: number): Promise<RateDecision> {
      sweep();
      let bucket = buckets.get(key);
      if (!bucket)
        buckets.set(key, (bucket = createTokenBucket(limit.perSecond, limit.burst, now)));
      const retryAfterMs = bucket.take(count);
      return Promise.resolve({ ok: retryAfterMs === 0, retryAfterMs });
    },
  };
}
