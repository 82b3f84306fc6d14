import type { Redis } from 'ioredis';
import { registryBeatScript, runScript } from './cluster-scripts.js';

/** The sorted set of live nodes: member = node id, score = when its entry expires (Redis ms). */
export const registryKey = 'cluster:nodes';

export interface NodeRegistryOptions {
  /** This process's id, unique per start (the one its leases hold). */
  nodeId: string;
  /** A node that stops beating is dead after this long, in ms (the lease TTL). */
  ttlMs: number;
}

/**
 * Which nodes are alive, for the partition balancer's fair share: every node beats (one
 * script: renew its entry, drop the expired ones, read the rest) more often than `ttlMs`; a
 * node killed without leaving drops out `ttlMs` after its last beat. The connection is the
 * caller's.
 *
 * @example
 * const registry = createNodeRegistry(redis, { nodeId, ttlMs: 5000 });
 * const live = await registry.beat(); // ['node-1-…', 'node-2-…']
 * await registry.leave(); // at shutdown
 */
export function createNodeRegistry(redis: Redis, options: NodeRegistryOptions) {
  return {
    /** Renews this node's entry; resolves to the ids of the live nodes, this one included. */
    async beat(): Promise<string[]> {
      const args = [options.nodeId, options.ttlMs];
      const live = (await runScript(redis, registryBeatScript, [registryKey], args)) as Buffer[];
      return live.map((id) => id.toString());
    },
    /** Removes this node's entry, so the others count one node fewer at once. */
    async leave(): Promise<void> {
      await redis.zrem(registryKey, options.nodeId);
    },
  };
}

export type NodeRegistry = ReturnType<typeof createNodeRegistry>;
