import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCohortAudience } from '../../src/analytics/cohort-audience.js';
import { createAudience } from '../../src/rules/audience.js';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import type { Firing } from '../../src/rules/firing.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { dayMs } from '../helpers/analytics-data.js';
import { openAnalyticsFixture, params, t0 } from '../helpers/analytics-fixture.js';
import {
  cohortReference,
  type CohortConditionAsk,
} from '../helpers/analytics-reference-cohorts.js';
import { rule } from '../rules/rules-fixtures.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
beforeAll(async () => {
  f = await openAnalyticsFixture();
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

const week = 7 * dayMs;
/** Cohorts as saved, and the same rule with its times resolved at the fixture's `now`. */
const cohorts: Array<[string, object, { match: 'all' | 'any'; conditions: CohortConditionAsk[] }]> =
  [
    [
      'loyal',
      { conditions: [{ kind: 'performed', types: ['song.play'], min: 4 }] },
      { match: 'all', conditions: [{ kind: 'performed', types: ['song.play'], min: 4 }] },
    ],
    [
      'early_or_big',
      {
        match: 'any',
        conditions: [
          { kind: 'first_seen', from: t0, to: t0 + 3 * dayMs },
          {
            kind: 'performed',
            types: ['ticket.buy'],
            where: [{ field: 'props.price', op: 'gt', value: 80 }],
          },
        ],
      },
      {
        match: 'any',
        conditions: [
          { kind: 'first_seen', from: t0, to: t0 + 3 * dayMs },
          {
            kind: 'performed',
            types: ['ticket.buy'],
            where: [{ field: 'props.price', op: 'gt', value: 80 }],
            min: 1,
          },
        ],
      },
    ],
    [
      'lapsed',
      {
        conditions: [
          { kind: 'performed', types: ['signup'] },
          { kind: 'performed', withinMs: 3 * week, min: 0, max: 0 },
        ],
      },
      {
        match: 'all',
        conditions: [
          { kind: 'performed', types: ['signup'], min: 1 },
          { kind: 'performed', from: t0 + 38 * dayMs - 3 * week, min: 0, max: 0 },
        ],
      },
    ],
  ];

describe('cohort members against a loop over the raw rows', () => {
  it.each(cohorts)('%s', async (name, spec, resolved) => {
    await f.cohorts.define('shop', name, spec);
    const all: string[] = [];
    for (let after = ''; ;) {
      const page = await f.analytics.cohortMembers('shop', name, params({ after, limit: 7 }));
      all.push(...page.persons);
      if (page.next === null) break;
      after = page.next;
    }
    const expected = cohortReference(f.rows, 'shop', resolved);
    expect(all).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);
    const known = await f.analytics.cohortMembers(
      'shop',
      name,
      params({ identified: 'true', limit: 10_000 }),
    );
    expect(known.persons).toEqual(cohortReference(f.rows, 'shop', resolved, true));
  });
});

describe('cohort audience of a rule', () => {
  const firing = (cohort: string): Firing => ({
    project: 'shop',
    rule: rule({
      name: 'to_cohort',
      trigger: { kind: 'event', types: ['news'] },
      audience: { kind: 'cohort', cohort },
      notification: { category: 'news', title: 'News', body: '' },
    }),
    id: 'f1',
    userId: '',
    context: {},
  });
  const audience = () =>
    createAudience(
      {
        follows: createFollowGraph(createMemoryStateStore()),
        segments: { users: async () => [] },
        cohorts: createCohortAudience({ cohorts: f.cohorts, members: f.queries.cohorts }),
        now: () => f.now,
      },
      { segmentPageSize: 5 },
    );

  it('notifies the cohort’s known users, page by page, never an anonymous visitor', async () => {
    await f.cohorts.define('shop', 'early', {
      conditions: [{ kind: 'first_seen', from: t0, to: t0 + 5 * dayMs }],
    });
    const users: string[] = [];
    for await (const user of audience().users(firing('early'))) users.push(user);
    const expected = cohortReference(
      f.rows,
      'shop',
      { match: 'all', conditions: [{ kind: 'first_seen', from: t0, to: t0 + 5 * dayMs }] },
      true,
    );
    expect(users).toEqual(expected);
    expect(users.every((u) => u.startsWith('user-'))).toBe(true);
    const everyone = cohortReference(f.rows, 'shop', {
      match: 'all',
      conditions: [{ kind: 'first_seen', from: t0, to: t0 + 5 * dayMs }],
    });
    expect(everyone.some((p) => p.startsWith('anon-'))).toBe(true);
  });

  it('fails the firing for a cohort that does not exist', async () => {
    const users = async () => {
      for await (const _ of audience().users(firing('missing'))) void _;
    };
    await expect(users()).rejects.toMatchObject({ code: 'UNKNOWN_COHORT' });
  });
});
