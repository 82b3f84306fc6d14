import type { Redis } from 'ioredis';
import type { LeaseDeps } from './lease-events.js';
import type { Leases } from './leases.js';
import { createRedisLease, type RedisLease } from './redis-lease.js';

export const defaultRedisLeasesOptions = {
  ttlMs: 5000, // a holder that died loses its leases after this long
  // The holder stops this long before its lease could expire in Redis: covers event-loop
  // lag delaying its deadline timer and the clock-rate difference between node and Redis.
  safetyMarginMs: 1000,
};

export interface RedisLeasesOptions extends Partial<typeof defaultRedisLeasesOptions> {
  /** This process's id, unique per start (a restarted node must not find its old leases its own). */
  nodeId: string;
}

/**
 * Leases on Redis shared by every node: see `createRedisLease` for how one lease is won,
 * renewed and given up. The connection is the caller's: `close` leaves it open.
 *
 * @example
 * const leases = createRedisLeases(redis, { nodeId }, { log, metrics });
 * leases.hold('timers', { acquired: () => timers.start(), lost: () => timers.stop() });
 */
export function createRedisLeases(
  redis: Redis,
  options: RedisLeasesOptions,
  deps: LeaseDeps = {},
): Leases {
  const opts = { ...defaultRedisLeasesOptions, ...options };
  if (opts.safetyMarginMs >= opts.ttlMs / 3)
    throw new Error(
      'safetyMarginMs must be under ttlMs/3, so two renewals fit before the deadline',
    );
  const leases = new Map<string, RedisLease>();
  let closed = false;
  return {
    hold(name, handlers, holdOptions = {}) {
      if (leases.has(name)) throw new Error(`lease ${name} is already held`);
      if (closed) return;
      leases.set(name, createRedisLease(redis, name, handlers, { ...opts, ...holdOptions }, deps));
    },
    holds: (name) => leases.get(name)?.holds() ?? false,
    release: async (name) => leases.get(name)?.release(),
    async close() {
      closed = true;
      const all = [...leases.values()];
      leases.clear();
      await Promise.all(
        all.map((lease) =>
          lease.close().catch((err: unknown) => deps.log?.warn({ err }, 'lease release failed')),
        ),
      );
    },
  };
}
