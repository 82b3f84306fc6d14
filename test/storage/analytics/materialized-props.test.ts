import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedChdb } from '../../helpers/migrated-chdb.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { conditionSql, textSql } from '../../../src/storage/analytics/field-sql.js';
import {
  materializeProps,
  propColumns,
} from '../../../src/storage/analytics/materialized-props.js';
import { createSqlParams } from '../../../src/storage/analytics/sql-params.js';
import { createTrendsQuery } from '../../../src/storage/analytics/trends-sql.js';
import { createFunnelQuery } from '../../../src/storage/analytics/funnel-sql.js';
import { row } from '../clickhouse.contract.js';

let ch: ClickHouse;
let close: () => Promise<void>;
beforeAll(async () => ({ ch, close } = await openMigratedChdb('backline-materialized-')));
afterAll(() => close());

const t0 = Date.UTC(2026, 2, 2);
// Every shape a prop takes: text, escaped text, numbers, booleans, null, objects, absent.
const shapes: unknown[] = [
  { k: 'rock', a: { b: 'x' } },
  { k: 'say "hi" \\ ünï', a: { b: 2 } },
  { k: 42 },
  { k: 1.5e3 },
  { k: true },
  { k: null },
  { k: { nested: [1, 'two'] } },
  { k: [1, 2] },
  { other: 1 },
  { k: '' },
  { k: 'rock' },
];
const fields = ['props.k', 'props.a.b'];

const events = (prefix: string, offset: number) =>
  shapes.map((props, i) =>
    row(`${prefix}-${i}`, {
      project: 'mp',
      type: i % 2 ? 'play' : 'view',
      ts: t0 + offset + i * 60_000,
      user_id: i % 3 ? `u${i % 4}` : '',
      anonymous_id: i % 3 ? '' : `anon-${i}`,
      props: JSON.stringify(props),
    }),
  );

async function read(columns?: ReadonlyMap<string, string>) {
  const p = createSqlParams({}, columns);
  const select = fields.map((f, i) => `${textSql(p, f)} AS f${i}`).join(', ');
  return ch.query<Record<string, unknown>>(
    `SELECT e.id AS id, ${select} FROM events AS e WHERE e.project = 'mp' ORDER BY id`,
    p.values,
  );
}

describe('materialized props', () => {
  it('read as the JSON text reads, for stored parts, mutated parts and new inserts', async () => {
    await ch.insert('events', events('before', 0));
    await materializeProps(ch, fields);
    await materializeProps(ch, fields); // again at the next start: nothing to do
    await ch.insert('events', events('after', 3600_000));
    const columns = propColumns(fields);
    const names = await ch.query<{ name: string; comment: string }>(
      `SELECT name, comment FROM system.columns WHERE table = 'events' AND startsWith(name, 'prop_')`,
    );
    expect(new Map(names.map((c) => [c.comment, c.name]))).toEqual(columns);
    const fromJson = await read();
    expect(fromJson.length).toBe(2 * shapes.length);
    expect(await read(columns)).toEqual(fromJson);
    const [counts] = await ch.query<{ n: string }>(
      `SELECT toString(countIf(f IS NOT NULL)) AS n FROM (SELECT ${columns.get('props.k')} AS f FROM events WHERE project = 'mp')`,
    );
    expect(Number(counts!.n)).toBe(2 * 9); // every shape but null and absent
  });

  it('match a string literal only to a JSON string, over the column and the JSON text', async () => {
    const shapes2: unknown[] = [...shapes, { k: '5' }, { k: 'true' }, { k: '"rock"' }, { k: 1500 }];
    await ch.insert(
      'events',
      shapes2.map((props, i) =>
        row(`eq-${i}`, { project: 'eq', ts: t0 + i, props: JSON.stringify(props) }),
      ),
    );
    const literals = ['rock', '5', 'true', 'null', '', ' 5', '"rock"', '[1,2]', '1.5e3', '1500'];
    for (const columns of [undefined, propColumns(fields)])
      for (const value of literals) {
        const p = createSqlParams({}, columns);
        const where = conditionSql(p, { field: 'props.k', op: 'eq', value });
        const got = await ch.query<{ id: string }>(
          `SELECT e.id AS id FROM events AS e WHERE e.project = 'eq' AND ${where} ORDER BY id`,
          p.values,
        );
        const want = shapes2
          .map((props, i) => [`eq-${i}`, (props as { k?: unknown }).k] as const)
          .filter(([, k]) => k === value)
          .map(([id]) => id)
          .sort();
        expect(
          got.map((r) => r.id),
          `${value} ${columns ? 'column' : 'JSON'}`,
        ).toEqual(want);
      }
  });

  it('give breakdowns and funnels the same answers as the JSON text', async () => {
    const columns = propColumns(fields);
    const scope = { project: 'mp', fromMs: t0, toMs: t0 + 86_400_000 };
    for (const measure of ['count', 'users'] as const) {
      const query = { scope, interval: 'hour' as const, measure, breakdown: 'props.k', limit: 3 };
      const plain = await createTrendsQuery(ch).rows(query);
      expect(plain.some((r) => r.key === 'rock')).toBe(true);
      expect(await createTrendsQuery(ch, columns).rows(query)).toEqual(plain);
    }
    const funnel = {
      scope,
      steps: [
        { type: 'view', where: [] },
        { type: 'play', where: [] },
      ],
      windowMs: 3 * 3600_000,
      breakdown: 'props.k',
      limit: 5,
    };
    const plain = await createFunnelQuery(ch).rows(funnel);
    expect(plain.length).toBeGreaterThan(1);
    expect(await createFunnelQuery(ch, columns).rows(funnel)).toEqual(plain);
  });
});
