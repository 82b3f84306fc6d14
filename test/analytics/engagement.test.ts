import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngagement, type Engagement } from '../../src/analytics/engagement-service.js';
import { engagementSchema } from '../../src/config/analytics-schema.js';
import type { PersonScore } from '../../src/model/analytics.js';
import { dayMs } from '../helpers/analytics-data.js';
import { openAnalyticsFixture, params, range, t0 } from '../helpers/analytics-fixture.js';
import { cohortReference } from '../helpers/analytics-reference-cohorts.js';
import {
  distributionReference,
  engagementReference,
  stickinessReference,
  type EngagementAsk,
} from '../helpers/analytics-reference-engagement.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
let engagement: Engagement;
const defaults = engagementSchema.parse({});

beforeAll(async () => {
  f = await openAnalyticsFixture();
  const deps = { queries: f.queries, cohorts: f.cohorts, metrics: f.metrics };
  engagement = createEngagement({ ...deps, settings: defaults, now: () => f.now });
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

type Case = {
  query: Record<string, string | number | object>;
  ask: Omit<EngagementAsk, 'project'>;
};

const base = {
  windowMs: defaults.windowMs,
  halfLifeMs: defaults.halfLifeMs,
  frequencyTarget: defaults.frequencyTarget,
  breadthTarget: defaults.breadthTarget,
  weights: [1, 1, 1] as [number, number, number],
};
const mid = t0 + 20 * dayMs + 5 * 3600_000;
const cases: Case[] = [
  { query: {}, ask: { ...base, at: 0 } }, // at: the fixture's now
  {
    query: { at: mid, window: 14 * dayMs, halfLife: 3 * dayMs, weights: '2,1,0.5' },
    ask: { ...base, at: mid, windowMs: 14 * dayMs, halfLifeMs: 3 * dayMs, weights: [2, 1, 0.5] },
  },
  {
    query: { at: mid, frequencyTarget: 3, breadthTarget: 2, types: ['song.play', 'ticket.view'] },
    ask: {
      ...base,
      at: mid,
      frequencyTarget: 3,
      breadthTarget: 2,
      types: ['song.play', 'ticket.view'],
    },
  },
  { query: { at: mid, weights: '0,0,1' }, ask: { ...base, at: mid, weights: [0, 0, 1] } },
];

/** The answer's scores against the loop's: the same persons, each part within float rounding. */
function expectScores(got: readonly PersonScore[], expected: readonly PersonScore[]) {
  const want = new Map(expected.map((s) => [s.person, s]));
  expect(got.map((s) => s.person).sort()).toEqual([...want.keys()].sort());
  for (const s of got) {
    const e = want.get(s.person)!;
    expect([s.lastMs, s.activeDays, s.eventTypes, s.events]).toEqual([
      e.lastMs,
      e.activeDays,
      e.eventTypes,
      e.events,
    ]);
    for (const part of ['score', 'recency', 'frequency', 'breadth'] as const)
      expect(s[part]).toBeCloseTo(e[part], 9);
  }
}

describe('engagement scores against a loop over the raw rows', () => {
  it.each(cases)('%j', async ({ query, ask }) => {
    const at = ask.at || f.now;
    const expected = engagementReference(f.rows, { project: 'shop', ...ask, at });
    expect(expected.length).toBeGreaterThan(20);
    const all = await engagement.users('shop', params({ ...query, limit: 10_000 }));
    expect(all.at).toBe(at);
    expectScores(all.users, expected);
    // Highest first.
    const scores = all.users.map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const top = await engagement.users('shop', params({ ...query, limit: 5 }));
    expect(top.users.map((s) => s.person)).toEqual(all.users.slice(0, 5).map((s) => s.person));
    const one = expected[expected.length - 1]!;
    const single = await engagement.users('shop', params({ ...query, person: one.person }));
    expectScores(single.users, [one]);

    for (const bins of [10, 7]) {
      const answer = await engagement.distribution('shop', params({ ...query, bins }));
      const want = distributionReference(expected, bins);
      expect(answer.persons).toBe(want.persons);
      expect(answer.bins.map((b) => b.persons)).toEqual(want.counts);
      expect(answer.bins[bins - 1]).toMatchObject({ to: 100 });
      expect(answer.mean).toBeCloseTo(want.mean!, 9);
      expect(answer.median).toBeCloseTo(want.median!, 9);
    }
  });

  it('scores a saved cohort’s persons alone; nobody in the window is an empty distribution', async () => {
    const conditions = [{ kind: 'performed' as const, types: ['ticket.buy'], min: 1 }];
    await f.cohorts.define('shop', 'buyers', { conditions });
    const persons = new Set(cohortReference(f.rows, 'shop', { match: 'all', conditions }));
    const expected = engagementReference(f.rows, { project: 'shop', ...base, at: mid, persons });
    const answer = await engagement.users(
      'shop',
      params({ at: mid, cohort: 'buyers', limit: 1000 }),
    );
    expectScores(answer.users, expected);
    expect(answer.users.length).toBeLessThan(
      engagementReference(f.rows, { project: 'shop', ...base, at: mid }).length,
    );

    const before = await engagement.distribution('shop', params({ at: t0 - 60 * dayMs }));
    expect(before).toMatchObject({ persons: 0, mean: null, median: null });
    expect(before.bins.map((b) => b.persons)).toEqual(Array.from({ length: 10 }, () => 0));
  });

  it('answers BAD_QUERY naming the parameter', async () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ weights: '1,1' }, '`weights`'],
      [{ weights: '0,0,0' }, '`weights`'],
      [{ weights: '1,-1,1' }, '`weights`'],
      [{ window: '5' }, '`window`'],
      [{ halfLife: 'x' }, '`halfLife`'],
      [{ frequencyTarget: '0' }, '`frequencyTarget`'],
      [{ breadthTarget: '1.5' }, '`breadthTarget`'],
      [{ types: '[]' }, '`types`'],
      [{ bins: '101' }, '`bins`'],
    ];
    for (const [values, name] of bad) {
      const err = await engagement.distribution('shop', params(values)).catch((e: unknown) => e);
      expect(err, JSON.stringify(values)).toMatchObject({ code: 'BAD_QUERY' });
      expect((err as Error).message).toContain(name);
    }
    await expect(engagement.users('shop', params({ cohort: 'nobody' }))).rejects.toMatchObject({
      code: 'UNKNOWN_COHORT',
    });
  });
});

describe('stickiness against a loop over the raw rows', () => {
  const days = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * dayMs);

  it.each([{ monthDays: 30 }, { monthDays: 7, types: ['song.play'] }])('%j', async (ask) => {
    const query = { monthDays: ask.monthDays, ...(ask.types ? { types: ask.types } : {}) };
    // A range cut mid-day on both ends: whole days, from's through to's.
    const span = { from: range.from + 3600_000, to: range.to - 3600_000 };
    const answer = await engagement.stickiness('shop', params(query), span);
    const expected = stickinessReference(f.rows, { project: 'shop', days: days(t0, 28), ...ask });
    expect(answer.days).toEqual(expected);
    expect([answer.from, answer.to]).toEqual([t0, t0 + 28 * dayMs]);
    const dau = expected.reduce((s, d) => s + d.dau, 0);
    const mau = expected.reduce((s, d) => s + d.mau, 0);
    expect(answer.ratio).toBeCloseTo(dau / mau, 12);
    expect(expected.some((d) => d.ratio !== null && d.ratio > 0 && d.ratio < 1)).toBe(true);
  });

  it('refuses more than 400 days and a bad monthDays', async () => {
    const years = { from: t0, to: t0 + 500 * dayMs };
    await expect(engagement.stickiness('shop', params({}), years)).rejects.toMatchObject({
      code: 'BAD_QUERY',
    });
    await expect(
      engagement.stickiness('shop', params({ monthDays: 0 }), range),
    ).rejects.toMatchObject({
      code: 'BAD_QUERY',
    });
  });
});
