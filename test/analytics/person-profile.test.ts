import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonProfiles, type PersonProfiles } from '../../src/analytics/person-profile.js';
import type { EventRow } from '../../src/model/event.js';
import { openAnalyticsFixture, params } from '../helpers/analytics-fixture.js';
import { identityMap, personOf } from '../helpers/analytics-reference.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
let persons: PersonProfiles;

beforeAll(async () => {
  f = await openAnalyticsFixture();
  persons = createPersonProfiles({ queries: f.queries, cohorts: f.cohorts, metrics: f.metrics });
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

/** A person's events by a loop over the project's rows, newest first (ties by id, descending). */
function eventsOf(person: string): EventRow[] {
  const rows = f.rows.filter((r) => r.project === 'shop');
  const map = identityMap(rows);
  return rows
    .filter((r) => personOf(r, map) === person)
    .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1));
}

/** The anonymous ids that merged into `person`, by the first event carrying both ids. */
function mergedInto(person: string): Array<{ anonymousId: string; mergedAt: number }> {
  const rows = f.rows.filter((r) => r.project === 'shop');
  const map = identityMap(rows);
  return [...map]
    .filter(([, user]) => user === person)
    .map(([anon]) => ({
      anonymousId: anon,
      mergedAt: Math.min(
        ...rows.filter((r) => r.anonymous_id === anon && r.user_id).map((r) => r.ts),
      ),
    }))
    .sort((a, b) => a.mergedAt - b.mergedAt || (a.anonymousId < b.anonymousId ? -1 : 1));
}

type Profile = Awaited<ReturnType<PersonProfiles['profile']>>;

/** Every page of a person's timeline, `limit` at a time. */
async function allPages(id: string, limit: number): Promise<Profile[]> {
  const pages: Profile[] = [];
  let before: string | null = null;
  do {
    const page = await persons.profile(
      'shop',
      id,
      params({ limit, ...(before ? { before } : {}) }),
    );
    pages.push(page);
    before = page.next;
  } while (before !== null && pages.length < 100);
  return pages;
}

describe('a person’s profile', () => {
  it('holds the events of each person as the loop assigns them, paged newest first', async () => {
    const contested = f.shop.contested[0]!; // a shared device: merged into its first user only
    const people = ['user-3', 'user-40', f.shop.merges.get(contested)!, 'anon-160'];
    for (const person of people) {
      const want = eventsOf(person);
      const pages = await allPages(person, 7);
      const got = pages.flatMap((p) => p.timeline);
      expect(
        got.map((e) => e.id),
        person,
      ).toEqual(want.map((r) => r.id));
      expect(got.map((e) => e.ts)).toEqual(want.map((r) => r.ts));
      expect(got[0]?.props).toEqual(want[0] ? JSON.parse(want[0].props) : undefined);
      const first = pages[0]!;
      expect(first.person).toBe(person);
      expect(first.events).toBe(want.length);
      expect(first.lastMs).toBe(want[0]?.ts ?? null);
      expect(first.firstMs).toBe(want.at(-1)?.ts ?? null);
      const perType = new Map<string, number>();
      for (const r of want) perType.set(r.type, (perType.get(r.type) ?? 0) + 1);
      expect(Object.fromEntries(first.types.map((t) => [t.type, t.events]))).toEqual(
        Object.fromEntries(perType),
      );
      expect(first.identities).toEqual(mergedInto(person));
    }
  });

  it('opens the user an anonymous id merged into, and an anonymous visitor as itself', async () => {
    const [anon, user] = [...f.shop.merges][0]!;
    const merged = await persons.profile('shop', anon, params({ limit: 1 }));
    expect([merged.id, merged.person, merged.identified]).toEqual([anon, user, true]);
    expect(merged.identities.map((i) => i.anonymousId)).toContain(anon);

    const visitor = await persons.profile('shop', 'anon-160', params({}));
    expect([visitor.person, visitor.identified, visitor.identities]).toEqual([
      'anon-160',
      false,
      [],
    ]);
    expect(visitor.events).toBeGreaterThan(0);
  });

  it('answers an unknown id with nothing, and never with another project’s events', async () => {
    const none = await persons.profile('shop', 'nobody-here', params({}));
    expect(none).toMatchObject({ person: 'nobody-here', events: 0, firstMs: null, timeline: [] });
    // Project `other` has its own user-3: none of its events is in shop's user-3.
    const shop = await allPages('user-3', 1000);
    expect(shop.flatMap((p) => p.timeline).every((e) => e.id.startsWith('shop-'))).toBe(true);
    const other = await persons.profile('other', 'user-3', params({}));
    expect(other.timeline.every((e) => e.id.startsWith('other-'))).toBe(true);
  });

  it('refuses a bad id, limit or cursor with BAD_QUERY', async () => {
    for (const [id, query] of [
      ['user-3', { limit: 0 }],
      ['user-3', { limit: 1001 }],
      ['user-3', { before: 'yesterday' }],
      ['bad\u0007id', {}],
      ['x'.repeat(1025), {}],
    ] as const) {
      await expect(persons.profile('shop', id, params(query))).rejects.toMatchObject({
        code: 'BAD_QUERY',
      });
    }
    const failures = await f.metrics.registry.getSingleMetricAsString(
      'backline_analytics_query_failures_total',
    );
    expect(failures).toContain('api="person",reason="BAD_QUERY"} 5');
  });
});
