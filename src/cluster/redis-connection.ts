import { Redis } from 'ioredis';
import type { Logger } from '../ops/logger.js';
import { backoffMs } from '../lib/backoff.js';

export type { Redis };

export const defaultRedisOptions = {
  keyPrefix: 'bl:', // before every key backline writes, so deployments can share a Redis
  reconnectBaseMs: 100, // first reconnect delay; doubles per attempt, with jitter
  reconnectMaxMs: 5000, // reconnect delay cap
  connectTimeoutMs: 5000, // a TCP connect taking longer is abandoned and retried
  commandTimeoutMs: 10_000, // a command without a reply by then is rejected (Redis hung, not down)
  readyTimeoutMs: 30_000, // how long `openRedis` waits for the first connection
};

export interface RedisDeps {
  log?: Logger;
  /** Counts connection errors by `reason` (the socket error code). */
  errors?: { inc(labels: { reason: string }): void };
}

/**
 * An ioredis client for backline. Commands fail fast while Redis is down (no offline queue,
 * no retry of a command in flight when the connection drops) so callers answer BACKPRESSURE
 * or spool instead of piling up memory; the connection itself retries with capped backoff and
 * jitter until `quit()`. A command in flight when the connection drops is rejected, never
 * resent: a resent conditional write whose first reply was lost could apply twice.
 * Resolves once connected (without an offline queue, earlier commands would fail).
 *
 * @example
 * const redis = await openRedis(config.redisUrl, { keyPrefix: config.cluster.redisKeyPrefix }, { log });
 * await checkDurability(redis, config.cluster.redisDurability, log);
 */
export async function openRedis(
  url: string,
  options: Partial<typeof defaultRedisOptions> = {},
  deps: RedisDeps = {},
): Promise<Redis> {
  const opts = { ...defaultRedisOptions, ...options };
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    // 0: a command in flight when the socket closes is rejected at once, not held for the
    // reconnect (with autoResend off, a held command would never settle).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    keyPrefix: opts.keyPrefix,
    connectTimeout: opts.connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs,
    retryStrategy: (attempt) => backoffMs(attempt, opts.reconnectBaseMs, opts.reconnectMaxMs),
  });
  watchConnection(redis, deps);
  await ready(redis, opts.readyTimeoutMs, url);
  return redis;
}

async function ready(redis: Redis, timeoutMs: number, url: string): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      timer = setTimeout(() => {
        redis.disconnect();
        reject(new Error(`Redis at ${redacted(url)} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for messages and logs. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Logs the first error of an outage and the recovery, counts every error. */
function watchConnection(redis: Redis, deps: RedisDeps): void {
  let down = false;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    deps.errors?.inc({ reason: err.code ?? 'other' });
    if (down) return;
    down = true;
    deps.log?.warn({ err }, 'Redis connection lost; retrying with backoff');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    deps.log?.info('Redis connection back');
  });
}
