/**
 * A storage consumer in a process of its own, so a test can `kill -9` it between an insert and
 * its XACK. It reaches ClickHouse through the remote ClickHouse (the test process serves its
 * chdb), prints `{"inserted":<rows>}` once an insert has returned, and then never returns
 * from that insert: the XACK is never sent, as when a node dies at that moment.
 *
 * env: REDIS_URL, KEY_PREFIX, CONSUMER, PARTITIONS.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createEventStore } from '../../src/storage/event-store.js';
import { createRemoteClickHouse } from '../../src/storage/redis-clickhouse.js';
import { createRedisStorageConsumer } from '../../src/storage/redis-storage-consumer.js';

const env = process.env as Record<string, string>;
const redis = await openRedis(env.REDIS_URL!, { keyPrefix: env.KEY_PREFIX! });
const store = createEventStore(createRemoteClickHouse(redis, { node: env.CONSUMER! }));
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const consumer = createRedisStorageConsumer(
  redis,
  {
    store: {
      storedIds: (project, ids, range) => store.storedIds(project, ids, range),
      async insert(rows, token, timeoutMs) {
        await store.insert(rows, token, timeoutMs);
        print({ inserted: rows.length });
        await new Promise(() => undefined);
      },
    },
    metrics: createMetrics(new Registry()),
    log: pino({ level: 'silent' }),
  },
  { consumer: env.CONSUMER!, partitions: Number(env.PARTITIONS) },
);
await consumer.start();
print({ ready: true });
