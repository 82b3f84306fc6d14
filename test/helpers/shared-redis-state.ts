import { openRedis } from '../../src/cluster/redis-connection.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { startRedisServer } from './redis-server.js';

/**
 * Two StateStores on two connections to one real redis-server: the state two cluster nodes
 * share, for tests of what happens when both act on the same keys at once.
 *
 * @example
 * const { nodes: [a, b], stop } = await sharedRedisState();
 */
export async function sharedRedisState(): Promise<{
  nodes: [StateStore, StateStore];
  stop(): Promise<void>;
}> {
  const server = await startRedisServer();
  const clients = [await openRedis(server.url), await openRedis(server.url)] as const;
  return {
    nodes: [createRedisStateStore(clients[0]), createRedisStateStore(clients[1])],
    async stop() {
      for (const client of clients) await client.quit();
      await server.stop();
    },
  };
}
