import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createDefinitionSync } from '../../src/cluster/definition-sync.js';
import { createRedisBus } from '../../src/cluster/redis-bus.js';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createPipelineService } from '../../src/pipeline/pipeline-service.js';
import { createStreamCatalog } from '../../src/pipeline/stream-catalog.js';
import { streamSpecSchema } from '../../src/pipeline/stream-spec.js';
import { createWindowCache } from '../../src/pipeline/window-cache.js';
import { createRuleCatalog } from '../../src/rules/rule-catalog.js';
import { ruleSpecSchema } from '../../src/rules/rule-spec.js';
import { createRulesService } from '../../src/rules/rules-service.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { openStateDefinitions } from '../../src/state/state-definitions.js';
import { createTimers } from '../../src/state/timers.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRollupStore } from '../../src/storage/rollup-store.js';
import { createWindowStore } from '../../src/storage/window-store.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const log = pino({ level: 'silent' });
let server: RedisServer;
let ch: ClickHouse;
beforeAll(async () => {
  server = await startRedisServer();
  ch = openChdb(mkdtempSync(join(tmpdir(), 'backline-definition-sync-')));
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

const configured = streamSpecSchema.parse({
  name: 'configured',
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [{ name: 'n', fn: 'count' }],
});

/**
 * A node as cluster mode wires definitions: stream and rule catalogs over the shared Redis
 * state, changes announced on the Redis bus and applied by the definition sync.
 */
async function openNode(
  prefix: string,
  beforeSync: () => Promise<unknown> = async () => undefined,
) {
  const redis = await openRedis(server.url, { keyPrefix: prefix });
  const metrics = createMetrics(new Registry());
  const bus = createRedisBus(redis, { metrics, log });
  const state = createRedisStateStore(redis);
  const pipeline = createPipelineService({ sinks: [], metrics, log }, {});
  const cache = createWindowCache();
  const rules = createRulesService({
    state,
    timers: createTimers(state, log),
    segments: { users: () => Promise.reject(new Error('no segments here')) },
    route: () => undefined,
    log,
  });
  const kinds = {
    stream: {
      saved: () => streamDefinitions.saved(),
      reload: (project: string, name: string) => streamDefinitions.reload(project, name),
      current: pipeline.stream,
      define: (project: string, spec: typeof configured) => {
        pipeline.define(project, spec);
        cache.forget(project, spec.name);
      },
      remove: (project: string, name: string) => {
        pipeline.remove(project, name);
        cache.forget(project, name);
      },
    },
    rule: {
      saved: () => ruleDefinitions.saved(),
      reload: (project: string, name: string) => ruleDefinitions.reload(project, name),
      current: rules.get,
      define: rules.define,
      remove: rules.remove,
    },
  };
  const sync = createDefinitionSync({ bus, kinds, metrics, log });
  const streamDefinitions = await openStateDefinitions(state, {
    kind: 'stream',
    schema: streamSpecSchema,
    badCode: 'BAD_STREAM',
    announce: (project, name) => sync.announce('stream', project, name),
  });
  const ruleDefinitions = await openStateDefinitions(state, {
    kind: 'rule',
    schema: ruleSpecSchema,
    badCode: 'BAD_RULE',
    announce: (project, name) => sync.announce('rule', project, name),
  });
  const catalog = createStreamCatalog({
    pipeline,
    cache,
    store: createWindowStore(ch),
    rollups: createRollupStore(ch),
    saved: streamDefinitions,
    bus,
    log,
  });
  const ruleCatalog = createRuleCatalog({ rules, saved: ruleDefinitions, bus, log });
  for (const spec of catalog.specsFor('dev', [configured])) pipeline.define('dev', spec);
  for (const spec of ruleCatalog.specsFor('dev', [])) rules.define('dev', spec);
  await beforeSync();
  await sync.start();
  cleanups.push(async () => {
    await sync.stop();
    await bus.close();
    await pipeline.stop();
    await redis.quit();
  });
  return { pipeline, rules, catalog, ruleCatalog, metrics };
}

const names = (node: Awaited<ReturnType<typeof openNode>>) => ({
  streams: node.catalog.list('dev').map((s) => s.name),
  rules: node.ruleCatalog.list('dev').map((r) => r.name),
});

const stream = (sizeMs: number) => ({
  source: { types: ['vote.cast'] },
  window: { kind: 'tumbling', sizeMs },
  aggregates: [{ name: 'votes', fn: 'count' }],
});
const welcome = {
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome', body: '' },
};

it('defines, redefines and removes on every node what one node changed through the API', async () => {
  const prefix = `t-${randomUUID()}:`;
  const [a, b] = [await openNode(prefix), await openNode(prefix)];

  await a.catalog.define('dev', 'votes', stream(60_000));
  a.ruleCatalog.define('dev', 'welcome', welcome);
  expect(await a.catalog.remove('dev', 'configured')).toBe(true);
  const sameAsA = () => JSON.stringify(names(b)) === JSON.stringify(names(a));
  await eventually(sameAsA, 10_000, 'B running what A defined');
  expect(names(b)).toEqual({ streams: ['votes'], rules: ['welcome'] });
  expect(b.catalog.get('dev', 'votes')).toEqual(a.catalog.get('dev', 'votes'));
  expect(b.ruleCatalog.get('dev', 'welcome')).toEqual(a.ruleCatalog.get('dev', 'welcome'));

  await b.catalog.define('dev', 'votes', stream(10_000));
  const window = () => a.catalog.get('dev', 'votes')?.window;
  await eventually(
    () => JSON.stringify(window()) === '{"kind":"tumbling","sizeMs":10000}',
    10_000,
    'A redefined',
  );

  expect(await a.ruleCatalog.remove('dev', 'welcome')).toBe(true);
  await eventually(() => b.ruleCatalog.get('dev', 'welcome') === undefined, 10_000, 'B removed');

  // A node that starts later loads what was saved, deletions of configured streams too.
  const c = await openNode(prefix);
  expect(names(c)).toEqual({ streams: ['votes'], rules: [] });
  expect(c.catalog.get('dev', 'votes')).toEqual(b.catalog.get('dev', 'votes'));

  // Each node applied the others' changes, and left its own (already running) alone.
  const syncs = async (node: typeof a, outcome: string) =>
    (await node.metrics.definitionSyncs.get()).values
      .filter((v) => v.labels.outcome === outcome)
      .reduce((sum, v) => sum + v.value, 0);
  await eventually(async () => (await syncs(b, 'removed')) === 2, 10_000, 'B counted removals');
  expect(await syncs(b, 'defined')).toBe(2);
  expect(await syncs(a, 'defined')).toBe(1);
  expect(await syncs(a, 'failed')).toBe(0);
});

it('runs what another node changed after this one loaded the definitions and before it subscribed', async () => {
  const prefix = `t-${randomUUID()}:`;
  const a = await openNode(prefix);
  await a.catalog.define('dev', 'early', stream(60_000));
  // B loads the definitions; A's changes land before B's sync has subscribed.
  const b = await openNode(prefix, async () => {
    await a.catalog.define('dev', 'late', stream(30_000));
    await a.catalog.define('dev', 'early', stream(10_000));
    expect(await a.catalog.remove('dev', 'configured')).toBe(true);
    await a.ruleCatalog.define('dev', 'welcome', welcome);
  });
  // Caught up by the time start resolved, with no announcement heard.
  expect(names(b).streams.sort()).toEqual(['early', 'late']);
  expect(names(b).rules).toEqual(['welcome']);
  expect(b.catalog.get('dev', 'early')?.window).toEqual({ kind: 'tumbling', sizeMs: 10_000 });
});
