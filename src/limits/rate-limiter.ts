/** What a rate limiter answers: taken, or refused with when to try again. */
export interface RateDecision {
  ok: boolean;
  /** When refused: the ms until the tokens asked for would be there (0 when `ok`). */
  retryAfterMs: number;
}

/** One token bucket per key: `perSecond` tokens refill continuously up to `burst`. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * Token buckets by key (an API key's id, a user), one limit for all of them. Single-node mode
 * keeps them in memory; cluster mode adds a Redis implementation of the same interface, so
 * every node takes from one bucket per key. Async for that reason.
 */
export interface RateLimiter {
  /**
   * Takes `count` tokens from `key`'s bucket when they are there; otherwise takes none. A
   * count above `burst` is let through when the bucket is full (a frame is never refused for
   * good).
   */
  take(key: string, count: number): Promise<RateDecision>;
}
