import type { Limits } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import type { RateLimit, RateLimiter } from '../limits/rate-limiter.js';
import type { TokenBucket } from '../lib/token-bucket.js';
import type { Metrics } from '../ops/metrics.js';

/**
 * The budgets shared by every connection of one API key or user. main.ts picks the
 * implementation (in memory now; Redis in cluster mode, so nodes share them too).
 */
export interface RateLimiters {
  /** Events per API key, over all its ingest sockets and HTTP batches. */
  keyEvents: RateLimiter;
  /** Requests per API key: read, admin and user routes over HTTP, live socket messages. */
  keyRequests: RateLimiter;
  /**
   * Requests per user: user routes called with the user's token, user socket messages; and
   * per address for calls with no credential (public streams over HTTP).
   */
  userRequests: RateLimiter;
}

/**
 * The three limiters with their `limits` settings; `create` makes one limiter (`name` keeps
 * a shared store's buckets apart).
 *
 * @example
 * const rateLimits = createRateLimiters(config.limits, (limit) => createMemoryRateLimiter(limit));
 */
export function createRateLimiters(
  limits: Limits,
  create: (limit: RateLimit, name: keyof RateLimiters) => RateLimiter,
): RateLimiters {
  return {
    keyEvents: create(
      { perSecond: limits.keyEventsPerSecond, burst: limits.keyBurstEvents },
      'keyEvents',
    ),
    keyRequests: create(
      { perSecond: limits.keyRequestsPerSecond, burst: limits.keyBurstRequests },
      'keyRequests',
    ),
    userRequests: create(
      { perSecond: limits.userRequestsPerSecond, burst: limits.userBurstRequests },
      'userRequests',
    ),
  };
}

export interface RateLimitDeps {
  rateLimits: RateLimiters;
  metrics: Metrics;
}

/**
 * Takes a batch's events from its connection's bucket, then from its key's. Throws
 * RATE_LIMITED naming the limit that refused. The connection's bucket goes first because it
 * answers at once; if the key then refuses, the connection gets its tokens back, so a
 * refused batch costs neither budget.
 */
export async function takeEvents(
  deps: RateLimitDeps,
  transport: 'ws' | 'http',
  connection: TokenBucket,
  keyId: string,
  count: number,
): Promise<void> {
  const waitMs = connection.take(count);
  if (waitMs > 0) {
    deps.metrics.ingestRateLimited.inc({ limit: 'connection', transport });
    throw new BacklineError('RATE_LIMITED', 'events per second of this connection exceeded', {
      retryAfterMs: waitMs,
    });
  }
  const key = await deps.rateLimits.keyEvents.take(keyId, count);
  if (key.ok) return;
  connection.release(count);
  deps.metrics.ingestRateLimited.inc({ limit: 'key', transport });
  throw new BacklineError('RATE_LIMITED', 'events per second of this key exceeded', {
    retryAfterMs: key.retryAfterMs,
  });
}

/**
 * Who a request counts against: an API key (by its id), a user (`<project>/<userId>`), or,
 * with no credential, the peer's address.
 */
export type Caller =
  { limit: 'key'; id: string } | { limit: 'user'; id: string } | { limit: 'anonymous'; id: string };

export const userCaller = (projectId: string, userId: string): Caller => ({
  limit: 'user',
  id: `${projectId}/${userId}`,
});

/** Takes one request from the caller's budget; throws RATE_LIMITED when it is spent. */
export async function takeRequest(
  deps: RateLimitDeps,
  transport: 'http' | 'live' | 'user',
  caller: Caller,
): Promise<void> {
  const limiter =
    caller.limit === 'key' ? deps.rateLimits.keyRequests : deps.rateLimits.userRequests;
  // `~` starts no project id, so an address never shares a bucket with a user.
  const id = caller.limit === 'anonymous' ? `~anonymous/${caller.id}` : caller.id;
  const { ok, retryAfterMs } = await limiter.take(id, 1);
  if (ok) return;
  deps.metrics.requestsRateLimited.inc({ limit: caller.limit, transport });
  const whose = caller.limit === 'anonymous' ? 'address' : caller.limit;
  throw new BacklineError('RATE_LIMITED', `requests per second of this ${whose} exceeded`, {
    retryAfterMs,
  });
}
