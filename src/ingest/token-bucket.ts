/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`.
 *
 * @example
 * const bucket = createTokenBucket(1000, 2000);
 * bucket.take(100); // 0: allowed; otherwise the ms to wait before it would be
 */
export function createTokenBucket(
  ratePerSecond: number,
  burst: number,
  now = () => performance.now(),
) {
  let tokens = burst;
  let last = now();
  return {
    take(count: number): number {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) * ratePerSecond) / 1000);
      last = t;
      // A batch bigger than the whole bucket is let through when the bucket is full.
      const needed = Math.min(count, burst);
      if (tokens >= needed) {
        tokens -= count;
        return 0;
      }
      return Math.ceil(((needed - tokens) * 1000) / ratePerSecond);
    },
  };
}

export type TokenBucket = ReturnType<typeof createTokenBucket>;
