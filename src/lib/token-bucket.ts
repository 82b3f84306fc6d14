/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. The one bucket
 * behind every rate limit (ingest, requests, email sends).
 *
 * `take` answers "now or not yet" and takes nothing when refused (ingest frames, requests:
 * the client retries). `reserve` always takes, so the count may go below zero, and answers
 * when the reservation comes due: senders that wait queue behind each other instead of all
 * going when the first one's wait ends (email sends).
 *
 * @example
 * const bucket = createTokenBucket(1000, 2000);
 * bucket.take(100); // 0: taken; otherwise the ms until 100 tokens would be there
 * const waitMs = bucket.reserve(1); // 0 while tokens remain; else when this one's turn comes
 * bucket.release(1); // gives back tokens that will not be used
 */
export function createTokenBucket(
  ratePerSecond: number,
  burst: number,
  now = () => performance.now(),
) {
  let tokens = burst;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) * ratePerSecond) / 1000);
    last = t;
  };
  const waitFor = (missing: number) => Math.ceil((missing * 1000) / ratePerSecond);
  return {
    /** Takes `count` tokens if they are there: 0; otherwise takes none and answers the ms to wait. */
    take(count: number): number {
      refill();
      // A batch bigger than the whole bucket is let through when the bucket is full.
      const needed = Math.min(count, burst);
      if (tokens >= needed) {
        tokens -= count;
        return 0;
      }
      return waitFor(needed - tokens);
    },
    /** Takes `count` tokens even if they are not there yet; answers the ms until they are (0: now). */
    reserve(count = 1): number {
      refill();
      tokens -= count;
      return tokens >= 0 ? 0 : waitFor(-tokens);
    },
    /** Gives back tokens taken or reserved that will not be used. */
    release(count = 1): void {
      tokens = Math.min(burst, tokens + count);
    },
    /** True when the bucket has refilled to `burst`: it is then the same as a new one. */
    full(): boolean {
      refill();
      return tokens >= burst;
    },
  };
}

export type TokenBucket = ReturnType<typeof createTokenBucket>;
