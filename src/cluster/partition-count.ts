import type { Redis } from 'ioredis';
import { StartError } from '../ops/start-error.js';

/** Where the cluster keeps the partition count every node must use (after the key prefix). */
export const partitionCountKey = 'cluster:partitions';

/**
 * Checks at start that this node uses the cluster's partition count: the first node to start
 * stores its own (SET NX), every later one compares. A node with another count would read and
 * write other streams (`log:<p>`) for the same projects, so it refuses to start instead.
 *
 * @example
 * await checkPartitionCount(redis, config.cluster.partitions); // throws StartError on mismatch
 */
export async function checkPartitionCount(redis: Redis, partitions: number): Promise<void> {
  await redis.set(partitionCountKey, String(partitions), 'NX');
  const stored = await redis.get(partitionCountKey);
  if (stored === String(partitions)) return;
  throw new StartError(
    `cluster.partitions (BACKLINE_CLUSTER_PARTITIONS) is ${partitions}, but the cluster in Redis ` +
      `uses ${stored}: every node must use the same number`,
  );
}
