import { createTokenBucket } from '../../../lib/token-bucket.js';

export const defaultEmailRateLimit = {
  perSecond: 500, // emails handed to the provider per second, over all projects
  burst: 1000, // emails that may go at once after a quiet spell
  maxWaitMs: 2000, // a send waits up to this long for its turn; longer → retry with afterMs
};

export type EmailRateLimitOptions = typeof defaultEmailRateLimit;

/**
 * The email send rate: the shared token bucket, used through reservations (`reserve`,
 * `release`), so senders that wait concurrently queue behind each other.
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
  const { reserve, release } = createTokenBucket(perSecond, burst, now);
  return { reserve, release };
}

export type EmailRateLimit = ReturnType<typeof createEmailRateLimit>;
