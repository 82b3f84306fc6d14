import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAnalyticsFixture, params, range } from '../helpers/analytics-fixture.js';
import { cohortReference } from '../helpers/analytics-reference-cohorts.js';
import { funnelReference, type FunnelAsk } from '../helpers/analytics-reference-funnels.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
beforeAll(async () => {
  f = await openAnalyticsFixture();
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

const hour = 3_600_000;
const signupSteps = [{ type: 'page.view' }, { type: 'signup' }, { type: 'ticket.buy' }];

const cases: Array<Omit<FunnelAsk, 'project' | 'from' | 'to'>> = [
  { steps: signupSteps, windowMs: hour },
  { steps: signupSteps, windowMs: 24 * hour },
  { steps: signupSteps, windowMs: 2 * hour, breakdown: 'props.src', limit: 2 },
  {
    steps: [
      {
        type: 'page.view',
        where: [{ field: 'props.artist', op: 'in', value: ['ar1', 'ar2', 'ar3'] }],
      },
      { type: 'signup' },
      { type: 'ticket.buy', where: [{ field: 'props.price', op: 'gte', value: 50 }] },
    ],
    windowMs: 6 * hour,
  },
  {
    steps: [{ type: 'song.play' }, { type: 'ticket.view' }, { type: 'song.play' }],
    windowMs: hour,
  },
];

const asQuery = (c: (typeof cases)[number]) =>
  params({
    steps: c.steps,
    window: c.windowMs,
    ...(c.breakdown ? { breakdown: c.breakdown } : {}),
    ...(c.limit ? { limit: c.limit } : {}),
  });

describe('funnels against a loop over the raw rows', () => {
  it.each(cases)('%j', async (c) => {
    const answer = await f.analytics.funnels('shop', asQuery(c), range);
    const expected = funnelReference(f.rows, { project: 'shop', ...range, ...c });
    expect(
      answer.results.map((r) => ({
        key: r.key,
        other: r.other,
        counts: r.steps.map((s) => s.count),
        medians: r.steps.slice(1).map((s) => s.medianMsFromPrevious),
      })),
    ).toEqual(expected);
    // Drop-offs: each step has fewer persons than the one before, and some convert.
    const counts = expected.find((r) => !r.other)!.counts;
    expect(counts[0]).toBeGreaterThan(counts[counts.length - 1]!);
    expect(counts[counts.length - 1]).toBeGreaterThan(0);
  });

  it('gives conversion from the first and from the previous step', async () => {
    const answer = await f.analytics.funnels('shop', asQuery(cases[0]!), range);
    const [view, signup, buy] = answer.results[0]!.steps;
    expect(view).toMatchObject({ conversion: 1, fromPrevious: null, medianMsFromPrevious: null });
    expect(signup!.conversion).toBe(signup!.count / view!.count);
    expect(buy!.fromPrevious).toBe(buy!.count / signup!.count);
  });

  it('filters to a saved cohort and answers zeros when nobody entered', async () => {
    await f.cohorts.define('shop', 'players', {
      conditions: [{ kind: 'performed', types: ['song.play'], min: 5 }],
    });
    const answer = await f.analytics.funnels(
      'shop',
      params({ steps: signupSteps, window: hour, cohort: 'players' }),
      range,
    );
    const persons = new Set(
      cohortReference(f.rows, 'shop', {
        match: 'all',
        conditions: [{ kind: 'performed', types: ['song.play'], min: 5 }],
      }),
    );
    const expected = funnelReference(f.rows, {
      project: 'shop',
      ...range,
      steps: signupSteps,
      windowMs: hour,
      persons,
    });
    expect(answer.results.map((r) => r.steps.map((s) => s.count))).toEqual(
      expected.map((r) => r.counts),
    );
    const none = await f.analytics.funnels(
      'shop',
      params({ steps: [{ type: 'nothing' }, { type: 'signup' }] }),
      range,
    );
    expect(none.results).toEqual([
      {
        key: null,
        other: false,
        steps: [
          {
            type: 'nothing',
            count: 0,
            conversion: null,
            fromPrevious: null,
            medianMsFromPrevious: null,
          },
          {
            type: 'signup',
            count: 0,
            conversion: null,
            fromPrevious: null,
            medianMsFromPrevious: null,
          },
        ],
      },
    ]);
  });

  it('answers BAD_QUERY naming the parameter', async () => {
    const bad: Array<[Record<string, string | number | object>, string]> = [
      [{}, '`steps`'],
      [{ steps: [{ type: 'a' }] }, '`steps`'],
      [{ steps: 'not json' }, '`steps`'],
      [{ steps: [{ type: 'a' }, { type: 'b', where: [{ field: 'x', op: 'eq' }] }] }, '`steps`'],
      [{ steps: signupSteps, window: 0 }, '`window`'],
      [{ steps: signupSteps, breakdown: 'props' }, '`breakdown`'],
    ];
    for (const [values, name] of bad) {
      const err = await f.analytics.funnels('shop', params(values), range).catch((e: unknown) => e);
      expect(err, JSON.stringify(values)).toMatchObject({ code: 'BAD_QUERY' });
      expect((err as Error).message).toContain(name);
    }
  });
});
