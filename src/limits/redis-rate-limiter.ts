import type { Redis } from 'ioredis';
import { runScript, script } from '../cluster/redis-script.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { RateDecision, RateLimit, RateLimiter } from './rate-limiter.js';

/**
 * KEYS: [bucket]. ARGV: tokens per second, burst, count. The token bucket of
 * limits/token-bucket.ts in one atomic step, on Redis's clock so nodes whose clocks disagree
 * share one bucket. Returns {1, 0} when taken, {0, ms to wait} when refused (nothing taken,
 * nothing written). The hash expires when it would have refilled to `burst`: it is then the
 * same as no hash, so Redis holds only the buckets of keys active lately.
 */
const takeScript = script(`
local rate, burst, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
local needed = math.min(count, burst)
if tokens < needed then return {0, math.ceil((needed - tokens) * 1000 / rate)} end
tokens = tokens - count
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(1, math.ceil((burst - tokens) * 1000 / rate))))
return {1, 0}`);

export interface RedisRateLimiterDeps {
  metrics?: Metrics;
  log?: Logger;
}

/**
 * The cluster's RateLimiter: one token bucket per key in Redis (`rate:<name>:<key>`), so every
 * node takes from the same bucket. Same contract as the memory limiter. While Redis cannot be
 * asked, a take is let through and counted in backline_limits_rate_limiter_failures_total: a
 * limit protects the service, and with Redis down ingest is refused BACKPRESSURE anyway.
 *
 * @example
 * const limiter = createRedisRateLimiter(redis, 'keyEvents', { perSecond: 1000, burst: 2000 });
 * const { ok, retryAfterMs } = await limiter.take(principal.keyId, frame.events.length);
 */
export function createRedisRateLimiter(
  redis: Redis,
  name: string,
  limit: RateLimit,
  deps: RedisRateLimiterDeps = {},
): RateLimiter {
  const args = [limit.perSecond, limit.burst];
  const allowed = (reason: string, err?: unknown): RateDecision => {
    deps.metrics?.rateLimiterFailures.inc({ reason });
    if (err) deps.log?.warn({ err, limiter: name }, 'rate limiter unavailable, letting through');
    return { ok: true, retryAfterMs: 0 };
  };
  return {
    async take(key, count) {
      if (redis.status !== 'ready') return allowed('unavailable');
      try {
        const [ok, retryAfterMs] = (await runScript(
          redis,
          takeScript,
          [`rate:${name}:${key}`],
          [...args, count],
        )) as [number, number];
        return { ok: ok === 1, retryAfterMs };
      } catch (err) {
        return allowed('redis_error', err);
      }
    },
  };
}
