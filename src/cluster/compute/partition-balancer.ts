import type { Redis } from 'ioredis';
import type { Service } from '../../ops/lifecycle.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Leases } from '../leases.js';
import { createNodeRegistry } from '../node-registry.js';
import { leaseKey } from '../redis-lease.js';
import { partitionLease } from './partition-cursor.js';
import { fairShare, wantsPartition, type Share } from './partition-share.js';

export const defaultBalancerOptions = {
  partitions: 16, // the event log's number; every node must use the same
  ttlMs: 5000, // a node that stops beating leaves the registry after this long (the lease TTL)
  everyMs: 1000, // how often the node beats and samples the shares; under ttlMs / 2
  graceMs: 5000, // a partition free this long is taken by any node under its share's upper bound
};

export type BalancerOptions = typeof defaultBalancerOptions;

export interface BalancerDeps {
  redis: Redis;
  leases: Leases;
  /** The id the leases were opened with: what the lease keys hold. */
  nodeId: string;
  metrics: Pick<Metrics, 'liveNodes' | 'partitionHandovers' | 'computeFailures'>;
  log: Logger;
}

/**
 * Spreads the partition leases over the live nodes. Every `everyMs` the node beats in the
 * node registry and reads who holds each `partition:<p>`; from that sample it knows its fair
 * share (`fairShare`): `compete(p)` says whether to try for a free partition, and a node over
 * its share while another is under it hands the difference over (`leases.release`: the owner
 * stops consuming and commits its cursor, then the lease is deleted). A hand-over needs the
 * same verdict on two samples in a row, so one sample taken amid a change moves nothing.
 *
 * @example
 * const balancer = createPartitionBalancer({ redis, leases, nodeId, metrics, log }, { ttlMs });
 * createPartitionOwner({ …, compete: balancer.compete }, …); // started after the balancer
 */
export function createPartitionBalancer(deps: BalancerDeps, options: Partial<BalancerOptions>) {
  const opts = { ...defaultBalancerOptions, ...options };
  const { redis, leases, nodeId, metrics, log } = deps;
  const registry = createNodeRegistry(redis, { nodeId, ttlMs: opts.ttlMs });
  const names = Array.from({ length: opts.partitions }, (_, p) => partitionLease(p));
  const freeSince = new Map<number, number>();
  let share: Share | undefined;
  let excessBefore = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const held = () => names.filter((name) => leases.holds(name)).length;

  async function sample(): Promise<void> {
    const live = await registry.beat();
    const holders = (await redis.mget(names.map(leaseKey))).map((id) => id ?? undefined);
    const now = performance.now();
    holders.forEach((holder, p) => {
      if (holder === undefined || !live.includes(holder)) freeSince.set(p, freeSince.get(p) ?? now);
      else freeSince.delete(p);
    });
    share = fairShare({ live, holders }, nodeId, held());
    metrics.liveNodes.set(live.length);
    const excess = Math.min(share.excess, excessBefore);
    excessBefore = share.excess;
    if (excess > 0) await handOver(excess);
  }

  /** Releases the `count` highest partitions held, one after another. */
  async function handOver(count: number): Promise<void> {
    const mine = names.filter((name) => leases.holds(name)).reverse();
    for (const name of mine.slice(0, count)) {
      if (stopped) return;
      log.info({ lease: name, share: { lo: share?.lo, hi: share?.hi } }, 'partition handed over');
      metrics.partitionHandovers.inc();
      await leases.release(name);
    }
  }

  async function tick(): Promise<void> {
    try {
      await sample();
    } catch (err) {
      metrics.computeFailures.inc({ reason: 'balance_failed' });
      log.debug({ err }, 'partition balancer: sample failed');
    }
    if (!stopped) timer = setTimeout(() => void tick(), opts.everyMs).unref();
  }

  const service: Service = {
    name: 'partition-balancer',
    /** Takes the first sample, so the owner started next competes knowing its share. */
    async start() {
      await tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await registry.leave().catch((err: unknown) => log.debug({ err }, 'registry leave failed'));
    },
  };
  return {
    ...service,
    /** Whether to try for partition `p` now; false until the first sample. */
    compete(partition: number): boolean {
      if (!share) return false;
      const since = freeSince.get(partition);
      const freeLongEnough = since !== undefined && performance.now() - since >= opts.graceMs;
      return wantsPartition(share, held(), freeLongEnough);
    },
  };
}

export type PartitionBalancer = ReturnType<typeof createPartitionBalancer>;
