import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedChdb } from '../helpers/migrated-chdb.js';
import { createMetrics } from '../../src/ops/metrics.js';
import type { EventRow } from '../../src/model/event.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { numberOf, textOf } from '../../src/storage/field-sql.js';
import { createRollupRoller } from '../../src/storage/rollup-roller.js';
import { rollupSql, type RollupSpec } from '../../src/storage/rollup-sql.js';
import { createRollupStore } from '../../src/storage/rollup-store.js';
import { createRollupTurns } from '../../src/storage/rollup-turns.js';
import { row } from './clickhouse.contract.js';

let ch: ClickHouse;
let close: () => Promise<void>;
beforeAll(async () => ({ ch, close } = await openMigratedChdb('backline-rollup-store-')));
afterAll(() => close());

const hour = 3600_000;
const t0 = Date.UTC(2030, 0, 1, 10);
/** Plays grouped by show: count, total seconds, distinct users, the longest. */
const plays: RollupSpec = {
  name: 'plays',
  source: { types: ['play'], where: [] },
  groupBy: ['props.show'],
  aggregates: [
    { name: 'n', field: undefined },
    { name: 'secs', field: 'props.secs' },
    { name: 'users', field: 'userId' },
    { name: 'longest', field: 'props.secs' },
  ],
  functions: [
    { fn: 'count', reads: 'text', typedState: false },
    { fn: 'sum', reads: 'number' },
    { fn: 'uniq', reads: 'text' },
    { fn: 'max', reads: 'number' },
  ],
};

let nextId = 0;
const play = (show: string, secs: number, user: string, at: number): EventRow =>
  row(`play-${++nextId}`, {
    type: 'play',
    ts: at,
    user_id: user,
    props: JSON.stringify({ show, secs }),
  });

/** The same figures straight from the raw events: what the rollup must answer. */
async function fromEvents(project: string, keyed = true) {
  const key = keyed ? "JSONExtractString(props, 'show')" : "''";
  const rows = await ch.query<Record<string, unknown>>(
    `SELECT toString(toUnixTimestamp(toStartOfDay(ts)) * 1000) AS start, ${key} AS key,
       count() AS n, sum(JSONExtractFloat(props, 'secs')) AS secs, uniq(user_id) AS users,
       max(JSONExtractFloat(props, 'secs')) AS longest
     FROM events WHERE project = {project:String} AND type = 'play'
     GROUP BY start, key ORDER BY start, key`,
    { project },
  );
  return rows.map(({ start, key, n, secs, users, longest }) => ({
    start: Number(start),
    key,
    values: [n, secs, users, longest].map(Number),
  }));
}

const roller = () =>
  createRollupRoller({
    ch,
    turns,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
  });
const turns = createRollupTurns();
const store = () => createRollupStore(ch, turns);

async function rolledUp(project: string, spec = plays) {
  const rows = await store().query(project, spec, t0 - 2 * 24 * hour, t0 + 2 * 24 * hour, 'day');
  return rows.map((r) => ({ ...r, values: r.values.map(Number) }));
}

/** Rows of the table itself, not counting the roller's marker row. */
async function storedRows(project: string): Promise<number> {
  const { table } = rollupSql(project, plays);
  const [r] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE upto = 0`);
  return Number(r!.n);
}

describe('rollups filled off the insert path', () => {
  it('answer exactly before, between and after rolls, with no query run on insert', async () => {
    await ch.insert('events', [play('a', 10, 'u1', t0), play('b', 5, 'u2', t0 + 1000)]);
    await store().ensure('p1', plays); // backfills those two
    await ch.insert('events', [play('a', 30, 'u2', t0 + hour), play('a', 2, 'u1', t0 + 25 * hour)]);
    // Nothing ran with the insert: the table still holds the backfill alone.
    expect(await storedRows('p1')).toBe(2);
    expect(await rolledUp('p1')).toEqual(await fromEvents('p1'));

    await roller().rollNow();
    expect(await storedRows('p1')).toBeGreaterThan(2);
    expect(await rolledUp('p1')).toEqual(await fromEvents('p1'));
    await ch.insert('events', [play('b', 7, 'u3', t0 + 2 * hour)]);
    expect(await rolledUp('p1')).toEqual(await fromEvents('p1'));
    await roller().rollNow();
    await roller().rollNow(); // nothing new: no change
    expect(await rolledUp('p1')).toEqual(await fromEvents('p1'));
  });

  it('count events stored after a roll whatever their times (a spool replayed late)', async () => {
    await store().ensure('p2', plays);
    await ch.insert(
      'events',
      [play('a', 1, 'u1', t0)].map((e) => ({ ...e, project: 'p2' })),
    );
    await roller().rollNow();
    const old = t0 - 20 * hour;
    const replayed = [play('a', 4, 'u9', old)].map((e) => ({ ...e, project: 'p2' }));
    await ch.insert(
      'events',
      replayed.map((e) => ({ ...e, received_at: old })),
    );
    expect(await rolledUp('p2')).toEqual(await fromEvents('p2'));
    await roller().rollNow();
    expect(await rolledUp('p2')).toEqual(await fromEvents('p2'));
  });

  it('take each event once when two rounds run at once', async () => {
    await store().ensure('p3', plays);
    const events = [play('c', 3, 'u1', t0), play('c', 4, 'u2', t0 + hour)];
    await ch.insert(
      'events',
      events.map((e) => ({ ...e, project: 'p3' })),
    );
    // Both read the same markers before either rolls: the second finds them moved on.
    await Promise.all([roller().rollNow(), roller().rollNow()]);
    expect(await rolledUp('p3')).toEqual(await fromEvents('p3'));
    await ch.insert(
      'events',
      [play('c', 5, 'u3', t0)].map((e) => ({ ...e, project: 'p3' })),
    );
    await Promise.all([roller().rollNow(), roller().rollNow(), roller().rollNow()]);
    expect(await rolledUp('p3')).toEqual(await fromEvents('p3'));
  });

  it('roll streams of several keys and projects in one round, more than one stage of it', async () => {
    // 7 streams of 4 aggregates: 28 state columns, more than one stage holds.
    const specs = Array.from({ length: 7 }, (_, i) => ({
      ...plays,
      name: `many${i}`,
      groupBy: i % 2 === 0 ? ['props.show'] : [],
    }));
    const projects = ['p6', 'p7'];
    for (const project of projects) for (const spec of specs) await store().ensure(project, spec);
    for (const project of projects) {
      const events = [
        play('g', 1, 'u1', t0),
        play('h', 2, 'u2', t0),
        play('g', 6, 'u1', t0 + hour),
      ];
      await ch.insert(
        'events',
        events.map((e) => ({ ...e, project })),
      );
    }
    await roller().rollNow();
    await ch.insert(
      'events',
      [play('h', 9, 'u5', t0)].map((e) => ({ ...e, project: 'p7' })),
    );
    await roller().rollNow();
    for (const project of projects)
      for (const [i, spec] of specs.entries())
        expect(await rolledUp(project, spec)).toEqual(await fromEvents(project, i % 2 === 0));
    const [rolled] = await ch.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${rollupSql('p7', specs[1]!).table} WHERE upto = 0`,
    );
    expect(Number(rolled!.n)).toBeGreaterThan(0); // the roller, not the tail, holds them
  });

  it('answer exactly when a roll lands between reading the marker and the states', async () => {
    await store().ensure('p8', plays);
    const p8 = (e: EventRow) => ({ ...e, project: 'p8' });
    await ch.insert('events', [play('k', 1, 'u1', t0), play('k', 2, 'u2', t0 + hour)].map(p8));
    let rolled = false;
    // The same ClickHouse, with a round landing just before the read's first states query.
    const racing: ClickHouse = {
      ...ch,
      async query<T>(sql: string, params?: Record<string, unknown>) {
        if (!rolled && sql.includes('UNION ALL')) {
          rolled = true;
          await roller().rollNow();
        }
        return ch.query<T>(sql, params);
      },
    };
    const read = await createRollupStore(racing, turns).query(
      'p8',
      plays,
      t0 - hour,
      t0 + 3 * hour,
      'day',
    );
    expect(rolled).toBe(true);
    expect(read.map((r) => ({ ...r, values: r.values.map(Number) }))).toEqual(
      await fromEvents('p8'),
    );
  });

  it('fill again a table left without its marker (a backfill cut short by a crash)', async () => {
    const events = [play('d', 8, 'u1', t0), play('d', 9, 'u1', t0)];
    await ch.insert(
      'events',
      events.map((e) => ({ ...e, project: 'p4' })),
    );
    const sql = rollupSql('p4', plays);
    await ch.exec(sql.create);
    await ch.exec(`INSERT INTO ${sql.table} (bucket, key, ${sql.columns}) ${sql.states(0)}`);
    await store().ensure('p4', plays);
    expect(await rolledUp('p4')).toEqual(await fromEvents('p4'));
  });

  it('take over a table of the older layout: its view goes, its rows stay, none twice', async () => {
    const { table } = rollupSql('p5', plays);
    const secs = numberOf('props.secs');
    await ch.exec(
      `CREATE TABLE ${table} (bucket DateTime('UTC'), key String, a0 AggregateFunction(count),
         a1 AggregateFunction(sum, Nullable(Float64)), a2 AggregateFunction(uniq, Nullable(String)),
         a3 AggregateFunction(max, Nullable(Float64)))
       ENGINE = AggregatingMergeTree ORDER BY (key, bucket)`,
    );
    await ch.exec(
      `CREATE MATERIALIZED VIEW ${table}_mv TO ${table} AS
       SELECT toStartOfHour(ts) AS bucket, arrayStringConcat([coalesce(${textOf('props.show')}, '')], '|') AS key,
         countState() AS a0, sumState(${secs}) AS a1, uniqState(${textOf('userId')}) AS a2, maxState(${secs}) AS a3
       FROM events WHERE project = 'p5' AND type IN ('play') GROUP BY bucket, key`,
    );
    const p5 = (e: EventRow) => ({ ...e, project: 'p5' });
    await ch.insert('events', [play('e', 1, 'u1', t0), play('f', 2, 'u2', t0)].map(p5));
    await store().ensure('p5', plays);
    const [view] = await ch.query(`SELECT name FROM system.tables WHERE name = '${table}_mv'`);
    expect(view).toBeUndefined();
    expect(await rolledUp('p5')).toEqual(await fromEvents('p5'));
    await ch.insert('events', [play('e', 3, 'u3', t0 + hour)].map(p5));
    await roller().rollNow();
    expect(await rolledUp('p5')).toEqual(await fromEvents('p5'));
  });
});

describe('who was active on which day (actor_days)', () => {
  /** Per (type or '' for any, day or 0 for all time, actor), the first event's time. */
  function expectedDays(rows: readonly EventRow[]) {
    const out = new Map<string, number>();
    for (const e of rows) {
      const actor = e.user_id || e.anonymous_id;
      if (!actor) continue;
      const day = Math.floor(e.ts / (24 * hour)) * 24 * hour;
      for (const type of [e.type, ''])
        for (const d of [day, 0]) {
          const key = `${type}|${d}|${e.user_id ? 1 : 0}|${actor}`;
          out.set(key, Math.min(out.get(key) ?? Infinity, e.ts));
        }
    }
    return [...out].map(([key, first]) => `${key}|${first}`).sort();
  }

  async function storedDays(project: string) {
    const rows = await ch.query<{ line: string }>(
      `SELECT concat(type, '|', toString(toInt64(toUnixTimestamp(toDateTime(day, 'UTC'))) * 1000), '|',
         toString(identified), '|', actor, '|', toString(toUnixTimestamp64Milli(min(first_ts)))) AS line
       FROM actor_days WHERE project = {project:String}
       GROUP BY type, day, identified, actor`,
      { project },
    );
    return rows.map((r) => r.line).sort();
  }

  it('are rolled with the streams, up to the newest block, each block once whatever the rounds', async () => {
    const days = (e: EventRow) => ({ ...e, project: 'days' });
    const first = [
      play('a', 1, 'u1', t0),
      play('a', 1, 'u1', t0 + 30 * hour),
      row('anon-1', { type: 'page.view', ts: t0 + hour, user_id: '', anonymous_id: 'anon-9' }),
      row('nobody', { type: 'page.view', ts: t0 + hour, user_id: '', anonymous_id: '' }),
    ].map(days);
    await ch.insert('events', first);
    await roller().rollNow();
    expect(await storedDays('days')).toEqual(expectedDays(first.slice(0, 3)));
    // Earlier times arriving later lower the first times; two rounds at once change nothing.
    const second = [play('b', 2, 'u1', t0 - hour), play('b', 2, 'u2', t0 + 50 * hour)].map(days);
    await ch.insert('events', second);
    await Promise.all([roller().rollNow(), roller().rollNow()]);
    expect(await storedDays('days')).toEqual(expectedDays([...first.slice(0, 3), ...second]));
    const [marker] = await ch.query<{ upto: string }>(
      `SELECT toString(max(upto)) AS upto FROM actor_days WHERE project = ''`,
    );
    const [newest] = await ch.query<{ block: string }>(
      `SELECT toString(max(_block_number)) AS block FROM events`,
    );
    expect(marker!.upto).toBe(newest!.block);
  });
});
