export const defaultEmailRateLimit = {
  perSecond: 500, // emails handed to the provider per second, over all projects
  burst: 1000, // emails that may go at once after a quiet spell
  maxWaitMs: 2000, // a send waits up to this long for its turn; longer → retry with afterMs
};

export type EmailRateLimitOptions = typeof defaultEmailRateLimit;

/**
 * A token bucket that hands out reservations: unlike the ingest bucket (which only answers
 * "not yet"), a reservation takes its tokens at once, so senders that wait concurrently
 * queue behind each other instead of all going when the first one's wait ends.
 *
 * @example
 * const limit = createEmailRateLimit({ perSecond: 10, burst: 10 });
 * const waitMs = limit.reserve(1); // 0 while tokens remain; else when this one's turn comes
 * if (waitMs > 2000) limit.release(1); // gave up the turn
 */
export function createEmailRateLimit(
  options: Partial<Omit<EmailRateLimitOptions, 'maxWaitMs'>> = {},
  now = () => performance.now(),
) {
  const { perSecond, burst } = { ...defaultEmailRateLimit, ...options };
  let tokens = burst;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) * perSecond) / 1000);
    last = t;
  };
  return {
    /** Reserves `count` sends; answers the ms until they may go (0: now). */
    reserve(count = 1): number {
      refill();
      tokens -= count;
      return tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / perSecond);
    },
    /** Gives back a reservation that will not be used. */
    release(count = 1): void {
      tokens = Math.min(burst, tokens + count);
    },
  };
}

export type EmailRateLimit = ReturnType<typeof createEmailRateLimit>;
