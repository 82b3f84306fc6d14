import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayMs } from '../helpers/analytics-data.js';
import { openAnalyticsFixture, params, range, t0 } from '../helpers/analytics-fixture.js';
import {
  cohortReference,
  retentionReference,
  type RetentionAsk,
} from '../helpers/analytics-reference-cohorts.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
beforeAll(async () => {
  f = await openAnalyticsFixture();
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

type Case = Omit<RetentionAsk, 'project' | 'from' | 'to'> & { from?: number; to?: number };

const cases: Case[] = [
  { interval: 'day', periods: 7 },
  { interval: 'week', periods: 3 },
  { interval: 'day', periods: 10, cohortType: 'signup', returnType: 'song.play' },
  { interval: 'week', periods: 2, returnType: 'ticket.view' },
  // A range that starts mid-week and a week later: persons first seen before it are in no cohort.
  { interval: 'week', periods: 2, from: t0 + 9 * dayMs + 3600_000, to: t0 + 20 * dayMs },
];

describe('retention against a loop over the raw rows', () => {
  it.each(cases)('%j', async (c) => {
    const span = { from: c.from ?? range.from, to: c.to ?? range.to };
    const answer = await f.analytics.retention(
      'shop',
      params({
        interval: c.interval,
        periods: c.periods,
        ...(c.cohortType ? { cohort: c.cohortType } : {}),
        ...(c.returnType ? { return: c.returnType } : {}),
      }),
      span,
    );
    const expected = retentionReference(f.rows, { project: 'shop', ...c, ...span });
    const periodStart = (start: number, k: number) =>
      start + k * (c.interval === 'day' ? dayMs : 7 * dayMs);
    expect(answer.cohorts).toEqual(
      expected.map((row) => {
        const counts = row.counts.map((n, k) => (periodStart(row.start, k) > f.now ? null : n));
        return {
          ...row,
          counts,
          rates: counts.map((n) => (n === null || row.size === 0 ? null : n / row.size)),
        };
      }),
    );
    expect(expected.some((row) => row.size > 0 && row.counts.slice(1).some((n) => n > 0))).toBe(
      true,
    );
  });

  it('counts a saved cohort’s persons alone with inCohort', async () => {
    const conditions = [{ kind: 'performed' as const, types: ['ticket.buy'], min: 1 }];
    await f.cohorts.define('shop', 'buyers', { conditions });
    const answer = await f.analytics.retention(
      'shop',
      params({ interval: 'week', periods: 3, inCohort: 'buyers' }),
      range,
    );
    const persons = new Set(cohortReference(f.rows, 'shop', { match: 'all', conditions }));
    const expected = retentionReference(f.rows, {
      project: 'shop',
      ...range,
      interval: 'week',
      periods: 3,
      persons,
    });
    expect(answer.cohorts.map((c) => [c.size, ...c.counts.map((n) => n ?? 0)])).toEqual(
      expected.map((c) => [c.size, ...c.counts]),
    );
    expect(answer.inCohort).toBe('buyers');
  });

  it('answers BAD_QUERY naming the parameter', async () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ interval: 'hour' }, '`interval`'],
      [{ periods: '0' }, '`periods`'],
      [{ periods: '1000' }, '`periods`'],
      [{ cohort: 'x'.repeat(300) }, '`cohort`'],
    ];
    for (const [values, name] of bad) {
      const err = await f.analytics
        .retention('shop', params(values), range)
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(values)).toMatchObject({ code: 'BAD_QUERY' });
      expect((err as Error).message).toContain(name);
    }
    const years = { from: t0, to: t0 + 500 * dayMs };
    await expect(f.analytics.retention('shop', params({}), years)).rejects.toMatchObject({
      code: 'BAD_QUERY',
    });
  });
});
