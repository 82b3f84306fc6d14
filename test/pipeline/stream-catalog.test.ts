import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createPipelineService } from '../../src/pipeline/pipeline-service.js';
import { createStreamCatalog } from '../../src/pipeline/stream-catalog.js';
import { createWindowCache } from '../../src/pipeline/window-cache.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { migrate } from '../../src/storage/migrate.js';
import { createRollupStore } from '../../src/storage/rollup-store.js';
import { createWindowStore } from '../../src/storage/window-store.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-stream-catalog-'));
const ch = openChdb(join(dir, 'ch'));
afterAll(() => ch.close());

const votes = {
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [{ name: 'votes', fn: 'count' }],
};

it('announces each stream defined or removed through it on the bus’s `definitions`', async () => {
  await migrate(ch);
  const log = pino({ level: 'silent' });
  const bus = createMemoryBus();
  const announced: unknown[] = [];
  bus.subscribe('definitions', (message) => announced.push(message));
  const catalog = createStreamCatalog({
    pipeline: createPipelineService({ sinks: [], metrics: createMetrics(), log }, {}),
    bus,
    cache: createWindowCache(),
    store: createWindowStore(ch),
    rollups: createRollupStore(ch),
    file: join(dir, 'streams.json'),
    log,
  });

  await catalog.define('dev', 'votes', votes);
  expect(await catalog.remove('dev', 'votes')).toBe(true);
  expect(await catalog.remove('dev', 'votes')).toBe(false);
  await expect(catalog.define('dev', 'bad', { window: {} })).rejects.toMatchObject({
    code: 'BAD_STREAM',
  });

  expect(announced).toEqual([
    { project: 'dev', kind: 'stream', name: 'votes' },
    { project: 'dev', kind: 'stream', name: 'votes' },
  ]);
});
