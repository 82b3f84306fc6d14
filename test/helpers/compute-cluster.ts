import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedisBus } from '../../src/cluster/redis-bus.js';
import { retainFrom } from '../../src/cluster/compute/partition-cursor.js';
import { createRedisEventLog, partitionOf } from '../../src/cluster/event-log.js';
import { logKey } from '../../src/cluster/log-entry.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import type { EventRow, StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import { createDecisionLog } from '../../src/notify/decision-log.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createPipelineService } from '../../src/pipeline/pipeline-service.js';
import type { StreamSpec } from '../../src/pipeline/stream-spec.js';
import type { RuleSpec } from '../../src/rules/rule-spec.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { insertInto, type ClickHouse } from '../../src/storage/clickhouse.js';
import { createDecisionStore, decisionsTable } from '../../src/storage/decision-store.js';
import { createEventStore } from '../../src/storage/event-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRedisStorageConsumer } from '../../src/storage/redis-storage-consumer.js';
import { openSpool } from '../../src/storage/spool.js';
import type { DecisionRow } from '../../src/model/decision.js';
import { log, partitions, startComputeNode, type NodeHooks } from './compute-node.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

export { partitions };

/** Results as published on the bus `windows` channel, in the order a subscriber got them. */
export type Published = Array<{ project: string; result: WindowResult }>;

/**
 * A real redis-server and a migrated chdb for one test file, and per test a "cluster" on a
 * fresh key prefix: an event log to append to (what ingest does), a storage consumer, an
 * observer of the bus, a single in-memory reference pipeline fed the same frames, and nodes.
 */
export function useComputeCluster() {
  let server: RedisServer;
  let ch: ClickHouse;
  const dir = mkdtempSync(join(tmpdir(), 'backline-compute-'));
  beforeAll(async () => {
    server = await startRedisServer();
    ch = openChdb(join(dir, 'ch'));
    await migrate(ch);
  });
  afterAll(async () => {
    await ch.close();
    await server.stop();
  });
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function connect(prefix: string): Promise<Redis> {
    const redis = await openRedis(server.url, {
      keyPrefix: prefix,
      reconnectBaseMs: 10,
      reconnectMaxMs: 100,
    });
    cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
    return redis;
  }

  async function openCluster(
    specs: Record<string, StreamSpec[]>,
    rules: Record<string, RuleSpec[]>,
  ) {
    const prefix = `t-${randomUUID()}:`;
    const client = await connect(prefix);
    const eventLog = createRedisEventLog(client, { partitions });
    const store = createEventStore(ch);
    const observed: Published = [];
    const observer = createRedisBus(client);
    observer.subscribe('windows', (message) => {
      const { project, results } = message as { project: string; results: WindowResult[] };
      for (const result of results) observed.push({ project, result });
    });
    cleanups.push(() => observer.close());
    const expected: Published = [];
    const reference = createPipelineService(
      {
        sinks: [
          {
            write: (project, results) =>
              results.forEach((result) => expected.push({ project, result })),
          },
        ],
        metrics: createMetrics(new Registry()),
        log,
      },
      specs,
    );
    await reference.start();
    cleanups.push(() => reference.stop());
    const decisions = await openDecisions();
    const shared = { connect: () => connect(prefix), store, decisions, specs, rules };

    return {
      client,
      observed,
      expected,
      /** Appends one frame (what ingest does) and feeds the reference the same frame. */
      async append(project: string, events: StreamEvent[]) {
        await eventLog.append(
          project,
          events.map((e) => rowOf(project, e)),
          events.map((e) => e.props),
        );
        reference.feed(project, events);
      },
      startNode: (name: string, hooks: NodeHooks = {}) =>
        startComputeNode(shared, name, hooks, cleanups),
      /** A storage consumer trimming below the owners' cursors; returns its stop. */
      async startStorage() {
        const redis = await connect(prefix);
        const consumer = createRedisStorageConsumer(
          redis,
          {
            store,
            metrics: createMetrics(new Registry()),
            log,
            retainFrom: (p) => retainFrom(redis, p),
          },
          { partitions, consumer: 'c1', flushIntervalMs: 20, blockMs: 200, trimEveryMs: 100 },
        );
        await consumer.start();
        let stopped = false;
        const stop = async () => {
          if (!stopped) await consumer.stop();
          stopped = true;
        };
        cleanups.push(stop);
        return stop;
      },
      /** The last entry id added to a project's partition (trimmed or not). */
      async newestEntry(project: string): Promise<string> {
        const key = logKey(partitionOf(project, partitions));
        const info = (await client.xinfo('STREAM', key)) as unknown[];
        return String(info[info.indexOf('last-generated-id') + 1]);
      },
      logLength: (project: string) => client.xlen(logKey(partitionOf(project, partitions))),
    };
  }

  /** The decision log on the shared chdb (the router records every decision). */
  async function openDecisions() {
    const writer = createBatchWriter<DecisionRow>(
      {
        table: decisionsTable,
        insert: insertInto<DecisionRow>(ch, decisionsTable),
        spool: openSpool(join(dir, `spool-${randomUUID()}`)),
        metrics: createMetrics(new Registry()),
        log,
      },
      { flushIntervalMs: 20 },
    );
    await writer.start();
    cleanups.push(() => writer.stop());
    return createDecisionLog({
      writer,
      store: createDecisionStore(ch),
      metrics: createMetrics(new Registry()),
    });
  }

  return { openCluster };
}

export type ComputeCluster = Awaited<
  ReturnType<ReturnType<typeof useComputeCluster>['openCluster']>
>;

function rowOf(project: string, event: StreamEvent): EventRow {
  return {
    project,
    type: event.type,
    ts: event.ts,
    client_ts: event.ts,
    sent_at: null,
    received_at: event.ts,
    id: event.id,
    user_id: event.userId,
    anonymous_id: event.anonymousId,
    session_id: event.sessionId,
    props: JSON.stringify(event.props),
  };
}

/** Per window (`project/stream/key@start`), the values of each final in order. */
export function finalsOf(published: Published): Map<string, unknown[]> {
  const finals = new Map<string, unknown[]>();
  for (const { project, result } of published) {
    if (!result.final) continue;
    const id = `${project}/${result.stream}/${result.key}@${result.start}`;
    finals.set(id, [...(finals.get(id) ?? []), result.values]);
  }
  return new Map([...finals].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Windows whose published revs ever failed to grow, with their revs in order. */
export function revsGoingBack(published: Published): string[] {
  const last = new Map<string, number[]>();
  for (const { project, result } of published) {
    const id = `${project}/${result.stream}/${result.key}@${result.start}`;
    last.set(id, [...(last.get(id) ?? []), result.rev]);
  }
  return [...last]
    .filter(([, revs]) => revs.some((rev, i) => i > 0 && rev <= revs[i - 1]!))
    .map(([id, revs]) => `${id}: ${revs.join(',')}`);
}
