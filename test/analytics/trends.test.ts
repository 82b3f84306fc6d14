import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityMap, personOf } from '../helpers/analytics-reference.js';
import { cohortReference } from '../helpers/analytics-reference-cohorts.js';
import { trendReference, type TrendAsk } from '../helpers/analytics-reference-trends.js';
import { openAnalyticsFixture, params, range, t0 } from '../helpers/analytics-fixture.js';
import { dayMs } from '../helpers/analytics-data.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
beforeAll(async () => {
  f = await openAnalyticsFixture();
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

type Case = Omit<TrendAsk, 'project' | 'from' | 'to' | 'interval'> & {
  interval?: TrendAsk['interval'];
};

const cases: Case[] = [
  { measure: 'count' },
  { measure: 'users' },
  { measure: 'users', interval: 'week' },
  { measure: 'users', interval: 'hour', event: 'signup' },
  { measure: 'sum', prop: 'props.price', event: 'ticket.buy' },
  {
    measure: 'avg',
    prop: 'props.duration',
    event: 'song.play',
    breakdown: 'props.artist',
    limit: 3,
  },
  { measure: 'users', breakdown: 'type' },
  { measure: 'count', breakdown: 'props.src', limit: 2 },
  {
    measure: 'users',
    breakdown: 'props.artist',
    where: [{ field: 'props.duration', op: 'gte', value: 100 }],
  },
  { measure: 'sum', prop: 'props.duration', breakdown: 'userId', limit: 5, interval: 'week' },
];

const query = (c: Case) =>
  params({
    measure: c.measure,
    ...(c.interval ? { interval: c.interval } : {}),
    ...(c.event ? { event: c.event } : {}),
    ...(c.prop ? { prop: c.prop } : {}),
    ...(c.breakdown ? { breakdown: c.breakdown } : {}),
    ...(c.limit ? { limit: c.limit } : {}),
    ...(c.where ? { where: c.where } : {}),
  });

describe('trends against a loop over the raw rows', () => {
  it.each(cases)('%j', async (c) => {
    const answer = await f.analytics.trends('shop', query(c), range);
    const expected = trendReference(f.rows, { project: 'shop', ...range, interval: 'day', ...c });
    expect(answer.buckets).toEqual(expected.buckets);
    expect(answer.series).toEqual(expected.series);
    expect(answer.series.length).toBeGreaterThan(0);
  });

  it.each([
    { interval: 'day', from: t0 + 5 * 3600_000, to: t0 + 20 * dayMs + 7 * 3600_000 },
    { interval: 'week', from: t0 + 2 * dayMs + 1, to: t0 + 23 * dayMs - 1 },
    { interval: 'day', from: t0 + 3 * dayMs + 3600_000, to: t0 + 3 * dayMs + 9 * 3600_000 },
  ] as const)('counts persons over whole and partial days alike: %j', async (c) => {
    const ask = { measure: 'users', event: 'song.play', interval: c.interval } as const;
    const span = { from: c.from, to: c.to };
    const answer = await f.analytics.trends('shop', params(ask), span);
    const expected = trendReference(f.rows, { project: 'shop', ...span, ...ask });
    expect(answer.buckets).toEqual(expected.buckets);
    expect(answer.series).toEqual(expected.series);
    expect(expected.series[0]!.total).toBeGreaterThan(0);
  });

  it('counts a person’s anonymous history as theirs once any event carries both ids', async () => {
    const shop = f.rows.filter((r) => r.project === 'shop');
    const map = identityMap(shop);
    const inRange = shop.filter((r) => r.ts >= range.from && r.ts < range.to);
    const persons = new Set(inRange.map((r) => personOf(r, map)));
    const unmerged = new Set(inRange.map((r) => r.user_id || r.anonymous_id));
    persons.delete('');
    unmerged.delete('');
    const answer = await f.analytics.trends('shop', params({ measure: 'users' }), range);
    expect(answer.series[0]!.total).toBe(persons.size);
    expect(persons.size).toBeLessThan(unmerged.size - 50);
  });

  it('compares with the previous period, keyed by the current top values', async () => {
    const half = { from: t0 + 14 * dayMs, to: range.to };
    const before = { from: t0, to: half.from };
    const ask = {
      measure: 'users',
      breakdown: 'props.artist',
      limit: 3,
      event: 'song.play',
    } as const;
    const answer = await f.analytics.trends(
      'shop',
      params({ ...ask, compare: 'previous', from: half.from, to: half.to }),
      half,
    );
    const current = trendReference(f.rows, { project: 'shop', interval: 'day', ...half, ...ask });
    expect(answer.series).toEqual(current.series);
    const keys = current.series.filter((s) => !s.other).map((s) => s.key);
    const previous = trendReference(f.rows, {
      project: 'shop',
      interval: 'day',
      ...before,
      ...ask,
      keys,
    });
    expect((answer as typeof answer & { previous: typeof answer }).previous.buckets).toEqual(
      previous.buckets,
    );
    const found = new Map(previous.series.map((s) => [`${s.other}:${s.key}`, s]));
    const zeros = { values: previous.buckets.map(() => 0), total: 0 };
    expect((answer as typeof answer & { previous: typeof answer }).previous.series).toEqual(
      current.series.map(
        (s) => found.get(`${s.other}:${s.key}`) ?? { key: s.key, other: s.other, ...zeros },
      ),
    );
  });

  it('filters to a saved cohort’s persons', async () => {
    const spec = { conditions: [{ kind: 'performed', types: ['ticket.buy'], min: 1 }] };
    await f.cohorts.define('shop', 'buyers', spec);
    const answer = await f.analytics.trends(
      'shop',
      params({ measure: 'count', event: 'song.play', cohort: 'buyers' }),
      range,
    );
    const persons = new Set(
      cohortReference(f.rows, 'shop', {
        match: 'all',
        conditions: [{ kind: 'performed', types: ['ticket.buy'], min: 1 }],
      }),
    );
    const expected = trendReference(f.rows, {
      project: 'shop',
      ...range,
      interval: 'day',
      measure: 'count',
      event: 'song.play',
      persons,
    });
    expect(answer.series).toEqual(expected.series);
    expect(persons.size).toBeGreaterThan(10);
  });

  it('answers BAD_QUERY naming the parameter, and UNKNOWN_COHORT; both counted', async () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ measure: 'sum' }, '`prop`'],
      [{ measure: 'median' }, '`measure`'],
      [{ interval: 'month' }, '`interval`'],
      [{ breakdown: 'props.' }, '`breakdown`'],
      [{ measure: 'avg', prop: 'userId' }, '`prop`'],
      [{ limit: '0' }, '`limit`'],
      [{ where: '[{"field":"nope","op":"eq"}]' }, '`where`'],
      [{ where: '{' }, '`where`'],
      [{ compare: 'last_year' }, '`compare`'],
    ];
    for (const [values, name] of bad) {
      const err = await f.analytics.trends('shop', params(values), range).catch((e: unknown) => e);
      expect(err, JSON.stringify(values)).toMatchObject({ code: 'BAD_QUERY' });
      expect((err as Error).message).toContain(name);
    }
    const year = { from: t0, to: t0 + 365 * dayMs };
    await expect(
      f.analytics.trends('shop', params({ interval: 'hour' }), year),
    ).rejects.toMatchObject({ code: 'BAD_QUERY' });
    await expect(
      f.analytics.trends('shop', params({ cohort: 'nobody' }), range),
    ).rejects.toMatchObject({ code: 'UNKNOWN_COHORT' });
    const failures = await f.metrics.registry.getSingleMetricAsString(
      'backline_analytics_query_failures_total',
    );
    expect(failures).toContain(
      `backline_analytics_query_failures_total{api="trends",reason="BAD_QUERY"} ${bad.length + 1}`,
    );
    expect(failures).toContain('{api="trends",reason="UNKNOWN_COHORT"} 1');
  });
});
