import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsSchema } from '../../../src/config/analytics-schema.js';
import { createLogger } from '../../../src/ops/logger.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { createFunnelQuery } from '../../../src/storage/analytics/funnel-sql.js';
import { propColumn } from '../../../src/storage/analytics/materialized-props.js';
import { createPropColumns } from '../../../src/storage/analytics/prop-columns.js';
import { createTrendsQuery } from '../../../src/storage/analytics/trends-sql.js';
import { eventually } from '../../helpers/eventually.js';
import { openMigratedChdb } from '../../helpers/migrated-chdb.js';
import { row } from '../clickhouse.contract.js';

/**
 * Props that slow queries read out of the JSON text become columns by themselves: after
 * `slowQueries` slow reads within the window, up to `maxColumns`, with the same answers as
 * before; another node on the same ClickHouse reads the column once it looks again.
 */
let ch: ClickHouse;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ ch, close } = await openMigratedChdb('backline-prop-columns-'));
  const genres = ['rock', 'jazz', 'pop', 'folk'];
  await ch.insert(
    'events',
    Array.from({ length: 400 }, (_, i) =>
      row(`e${i}`, {
        project: 'pc',
        type: i % 3 ? 'play' : 'view',
        ts: t0 + i * 60_000,
        user_id: `u${i % 17}`,
        props: JSON.stringify({ genre: genres[i % 4], mood: i % 2 ? 'up' : 'down', n: i }),
      }),
    ),
  );
});
afterAll(() => close());

const t0 = Date.UTC(2026, 3, 1);
const scope = { project: 'pc', fromMs: t0, toMs: t0 + 86_400_000 };
const breakdown = (field: string) => ({
  scope,
  interval: 'hour' as const,
  measure: 'users' as const,
  breakdown: field,
  limit: 3,
});

function props(settings: Record<string, unknown>, now?: () => number) {
  const metrics = createMetrics();
  const parsed = analyticsSchema.parse({ autoMaterialize: settings }).autoMaterialize;
  const log = createLogger('silent');
  const service = createPropColumns({ ch, listed: [], settings: parsed, metrics, log, now });
  return { service, metrics };
}

const gauge = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.propColumns.get()).values.map((v) => [v.labels.source, v.labels.state, v.value]);

describe('prop columns made after slow reads', () => {
  it('makes a field read slowly `slowQueries` times a column, answers unchanged', async () => {
    const { service, metrics } = props({ slowMs: 0, slowQueries: 2, maxColumns: 1 });
    await service.start();
    const trends = createTrendsQuery(ch, service.columns, service.onJsonRead);
    const plain = await createTrendsQuery(ch).rows(breakdown('props.genre'));
    expect(plain.filter((r) => r.bucket === null).map((r) => r.key)).toEqual([
      'folk',
      'jazz',
      'pop',
      null,
    ]);

    expect(await trends.rows(breakdown('props.genre'))).toEqual(plain);
    await service.settled();
    expect(service.columns.has('props.genre')).toBe(false); // one slow read is not enough
    expect(await trends.rows(breakdown('props.genre'))).toEqual(plain);
    await service.settled();
    expect(service.columns.get('props.genre')).toBe(propColumn('props.genre'));
    // Read from the column at once, while the mutation writes it, and after.
    expect(await trends.rows(breakdown('props.genre'))).toEqual(plain);
    await eventually(
      async () => {
        await service.refresh();
        return (await gauge(metrics)).some(
          ([s, st, v]) => s === 'auto' && st === 'ready' && v === 1,
        );
      },
      30_000,
      'the mutation writing props.genre',
    );
    expect(await trends.rows(breakdown('props.genre'))).toEqual(plain);
    const made = await metrics.propColumnsMade.get();
    expect(made.values).toEqual([
      expect.objectContaining({ labels: { outcome: 'made' }, value: 1 }),
    ]);

    // maxColumns 1: a second field stays in the JSON text however often it is read.
    const funnels = createFunnelQuery(ch, service.columns, service.onJsonRead);
    const steps = [
      { type: 'view', where: [] },
      { type: 'play', where: [] },
    ];
    for (let i = 0; i < 3; i++)
      await funnels.rows({ scope, steps, windowMs: 3600_000, breakdown: 'props.mood', limit: 5 });
    await service.settled();
    expect([...service.columns.keys()]).toEqual(['props.genre']);
    await service.stop();

    // Another node on the same ClickHouse (or this one restarted) reads it as a column too.
    const other = props({ enabled: false });
    expect(other.service.columns.size).toBe(0);
    await other.service.start();
    expect(other.service.columns.get('props.genre')).toBe(propColumn('props.genre'));
    await other.service.stop();
  }, 60_000);

  it('counts only reads as slow as slowMs, within the window', async () => {
    let now = t0;
    const slow = props({ slowMs: 50, slowQueries: 2, windowMs: 60_000 }, () => now);
    const fields = new Set(['props.n']);
    slow.service.onJsonRead(fields, 49);
    slow.service.onJsonRead(fields, 10);
    now += 61_000;
    slow.service.onJsonRead(fields, 80); // the first slow one has left the window
    await slow.service.settled();
    expect(slow.service.columns.has('props.n')).toBe(false);
    now += 1000;
    slow.service.onJsonRead(fields, 80);
    await slow.service.settled();
    expect(slow.service.columns.get('props.n')).toBe(propColumn('props.n'));

    const off = props({ enabled: false, slowMs: 0, slowQueries: 1 });
    off.service.onJsonRead(new Set(['props.mood']), 1000);
    await off.service.settled();
    expect(off.service.columns.has('props.mood')).toBe(false);
  });
});
