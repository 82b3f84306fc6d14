import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrending } from '../../src/analytics/trending-service.js';
import type { AcceptedListener } from '../../src/ingest/acceptance.js';
import type { EventRow } from '../../src/model/event.js';
import { toStreamEvent } from '../../src/model/event.js';
import { trendingSchema } from '../../src/config/analytics-schema.js';
import { dayMs } from '../helpers/analytics-data.js';
import { openAnalyticsFixture, params, t0 } from '../helpers/analytics-fixture.js';
import {
  entityEvents,
  expectClose,
  trendingReference,
} from '../helpers/analytics-reference-trending.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
beforeAll(async () => {
  f = await openAnalyticsFixture();
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

const hour = 3_600_000;
const settings = trendingSchema.parse({ periodMs: 2 * dayMs, halfLifeMs: 12 * hour });

/** A stand-in for ingest: the test hands batches to the listener and says when all is stored. */
function fakeIngest() {
  let listener: AcceptedListener = () => undefined;
  let release: () => void = () => undefined;
  let stored: Promise<void> = Promise.resolve();
  return {
    onAccepted: (l: AcceptedListener) => void (listener = l),
    durable: () => stored,
    deliver: (rows: EventRow[], receivedAt: number) =>
      listener(
        'shop',
        rows.map((r) => toStreamEvent(r, JSON.parse(r.props) as Record<string, unknown>)),
        receivedAt,
      ),
    /** durable() waits until release() from now on. */
    hold() {
      stored = new Promise((resolve) => (release = resolve));
      return () => release();
    },
  };
}

let n = 0;
const play = (artist: string, ts: number, receivedAt = ts): EventRow => ({
  ...{
    project: 'shop',
    type: 'song.play',
    ts,
    client_ts: ts,
    sent_at: null,
    received_at: receivedAt,
  },
  ...{
    id: `live-${n++}`,
    user_id: 'user-1',
    anonymous_id: '',
    session_id: '',
    props: JSON.stringify({ artist }),
  },
});

function expectAnswer(
  answer: Awaited<ReturnType<ReturnType<typeof createTrending>['top']>>,
  events: ReadonlyArray<{ value: string; ts: number }>,
  shape = settings,
) {
  const want = trendingReference(events, { ...shape, asOf: answer.asOf });
  expect(answer.items.map((i) => [i.value, i.events, i.previousEvents])).toEqual(
    want.slice(0, answer.items.length).map((w) => [w.value, w.events, w.previousEvents]),
  );
  answer.items.forEach((item, i) => {
    expectClose(item.score, want[i]!.score, item.value);
    expectClose(item.previousScore, want[i]!.previousScore, item.value);
  });
  return want;
}

describe('trending over stored events and live ones', () => {
  const at = t0 + 20 * dayMs + 5 * hour + 123;

  it('starts from the stored events, then follows live batches, counting each event once', async () => {
    const ingest = fakeIngest();
    let now = at;
    const trending = createTrending({ ...f, ingest, settings, now: () => now });
    const stored = entityEvents(f.rows, { project: 'shop', entity: 'props.artist' });
    const first = await trending.top('shop', params({ entity: 'props.artist' }));
    expect(first.live).toBe(true);
    const want = expectAnswer(first, stored);
    expect(want.length).toBeGreaterThan(3);
    expect(want.some((w) => w.previousEvents > 0)).toBe(true);

    // Later: a burst for one artist, received now (live only: never stored in this test).
    now += 30 * 60_000;
    const burst = Array.from({ length: 40 }, (_, i) => play('ar7', now - i * 1000));
    ingest.deliver(burst, Date.now());
    const second = await trending.top('shop', params({ entity: 'props.artist', limit: 3 }));
    const all = [...stored, ...burst.map((r) => ({ value: 'ar7', ts: r.ts }))];
    expectAnswer(second, all);
    expect(second.items[0]!.value).toBe('ar7');
    expect(second.items).toHaveLength(3);
  });

  it('splits by receive time while it loads: stored before the cut, live from it on', async () => {
    const ingest = fakeIngest();
    const trending = createTrending({ ...f, ingest, settings, now: () => at });
    const release = ingest.hold();
    // The cut is the millisecond after the call: after `t1`, at most `t2 + 1`.
    const t1 = Date.now();
    const asking = trending.top('shop', params({ entity: 'props.artist', types: ['song.play'] }));
    const t2 = Date.now();
    // Received before the cut and stored: the stored part counts them, live ignores them.
    const before = [play('ar1', at - hour, t1 - 10), play('ar1', at - 2 * hour, t1 - 5)];
    await f.ch.insert('events', before);
    ingest.deliver(before, t1 - 5);
    // Received from the cut on, stored too by the time the stored part is read: live counts them.
    const after = [play('ar2', at - hour, t2 + 1), play('ar2', at - 3 * hour, t2 + 1)];
    await f.ch.insert('events', after);
    ingest.deliver(after, t2 + 1);
    release();
    const answer = await asking;
    f.rows.push(...before, ...after); // stored: later tests read them too
    const rows = f.rows;
    expectAnswer(
      answer,
      entityEvents(rows, { project: 'shop', entity: 'props.artist', types: ['song.play'] }),
    );
  });

  it('answers from storage alone without a live feed (a cluster node), the same sums', async () => {
    const trending = createTrending({ ...f, settings, now: () => at });
    const answer = await trending.top(
      'shop',
      params({ entity: 'type', period: dayMs, halfLife: 2 * hour }),
    );
    expect(answer.live).toBe(false);
    const shape = { ...settings, periodMs: dayMs, halfLifeMs: 2 * hour };
    expect(
      expectAnswer(answer, entityEvents(f.rows, { project: 'shop', entity: 'type' }), shape).length,
    ).toBeGreaterThan(1);
  });

  it('keeps at most maxTrackers and maxValues, counted', async () => {
    const ingest = fakeIngest();
    const small = trendingSchema.parse({ ...settings, maxTrackers: 2, maxValues: 100 });
    const trending = createTrending({ ...f, ingest, settings: small, now: () => at });
    for (const entity of ['props.artist', 'props.src', 'type'])
      await trending.top('shop', params({ entity }));
    expect(
      await f.metrics.registry.getSingleMetricAsString('backline_analytics_trending_trackers'),
    ).toContain('backline_analytics_trending_trackers 2');
    // The least recently asked went: asking again starts it over, then 150 new values come.
    await trending.top('shop', params({ entity: 'props.artist' }));
    const many = Array.from({ length: 150 }, (_, i) => play(`x${i}`, at - 1000));
    ingest.deliver(many, Date.now());
    const answer = await trending.top('shop', params({ entity: 'props.artist', limit: 1000 }));
    expect(answer.items.length).toBeGreaterThan(50);
    expect(answer.items.length).toBeLessThanOrEqual(100);
    const dropped = await f.metrics.registry.getSingleMetricAsString(
      'backline_analytics_trending_values_dropped_total',
    );
    expect(dropped).toMatch(/_total [1-9]/);
  });

  it('answers BAD_QUERY naming the parameter', async () => {
    const trending = createTrending({ ...f, settings, now: () => at });
    const bad: Array<[Record<string, string>, string]> = [
      [{}, '`entity`'],
      [{ entity: 'userId' }, '`entity`'],
      [{ entity: 'props.a', period: '90000' }, '`period`'],
      [{ entity: 'props.a', halfLife: '5' }, '`halfLife`'],
      [{ entity: 'props.a', limit: '0' }, '`limit`'],
      [{ entity: 'props.a', types: '["a",' }, '`types`'],
    ];
    for (const [values, name] of bad) {
      const err = await trending.top('shop', params(values)).catch((e: unknown) => e);
      expect(err, JSON.stringify(values)).toMatchObject({ code: 'BAD_QUERY' });
      expect((err as Error).message).toContain(name);
    }
  });
});
