import { describe, expect, it } from 'vitest';
import { createTrendingTracker } from '../../src/analytics/trending-tracker.js';
import { seeded } from '../helpers/event-generator.js';
import {
  expectClose,
  trendingReference,
  type TrendingAsk,
} from '../helpers/analytics-reference-trending.js';

const minute = 60_000;
const hour = 60 * minute;

function expectRanked(
  got: ReturnType<ReturnType<typeof createTrendingTracker>['ranked']>,
  events: ReadonlyArray<{ value: string; ts: number }>,
  ask: Omit<TrendingAsk, 'asOf'>,
) {
  const want = trendingReference(events, { ...ask, asOf: got.asOf });
  expect(got.items.map((i) => i.value)).toEqual(want.map((w) => w.value));
  got.items.forEach((item, i) => {
    const w = want[i]!;
    expect([item.events, item.previousEvents]).toEqual([w.events, w.previousEvents]);
    expectClose(item.score, w.score, `${item.value} score`);
    expectClose(item.previousScore, w.previousScore, `${item.value} previous`);
    expectClose(item.change, w.score - w.previousScore, `${item.value} change`);
    if (w.previousEvents === 0) expect(item.changeRatio).toBeNull();
    else expectClose(item.changeRatio!, w.score / w.previousScore - 1, `${item.value} ratio`);
  });
  return want;
}

describe('trending tracker against a loop over every event added', () => {
  it.each([
    { periodMs: 6 * hour, halfLifeMs: 2 * hour, bucketMs: minute },
    { periodMs: 24 * hour, halfLifeMs: 6 * hour, bucketMs: 15 * minute },
    { periodMs: 30 * minute, halfLifeMs: 10 * minute, bucketMs: 5 * minute },
  ])('%j', (shape) => {
    const random = seeded(11);
    const start = Date.UTC(2026, 2, 1, 7, 13, 5);
    let now = start;
    const tracker = createTrendingTracker(shape, now);
    const values = ['ar0', 'ar1', 'ar2', 'ar3', 'ar4', 'ar5', '7', '{"a":1}'];
    const added: Array<{ value: string; ts: number }> = [];
    let checked = 0;
    for (let step = 0; step < 600; step++) {
      // Time moves on by a little, sometimes by more than a period at once.
      now += random() < 0.02 ? 2.5 * shape.periodMs : random() * shape.periodMs * 0.05;
      for (let n = Math.floor(random() * 8); n > 0; n--) {
        // Popularity drifts: later steps favour later values. Some events come late, some
        // from clocks a little ahead, a few from before the previous period.
        const value = values[Math.min(values.length - 1, Math.floor(random() * 3 + step / 100))]!;
        const late = random() < 0.1 ? random() * 3 * shape.periodMs : random() * shape.bucketMs;
        const ts = Math.floor(now - late + (random() < 0.05 ? 2 * shape.bucketMs : 0));
        tracker.add(value, ts);
        added.push({ value, ts });
      }
      if (step % 7 === 0) {
        const got = tracker.ranked(now, 100);
        expect(got.asOf).toBe(Math.floor(now / shape.bucketMs) * shape.bucketMs + shape.bucketMs);
        if (expectRanked(got, added, shape).length > 1) checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('keeps its answer within a bucket, ranks ties by value and honours the limit', () => {
    const shape = { periodMs: hour, halfLifeMs: hour, bucketMs: minute };
    const at = Date.UTC(2026, 2, 1, 12, 0, 30);
    const tracker = createTrendingTracker(shape, at);
    for (const value of ['b', 'a', 'c']) tracker.add(value, at - 10_000);
    tracker.add('c', at - 20 * minute);
    const first = tracker.ranked(at, 2);
    expect(first.items.map((i) => i.value)).toEqual(['c', 'a']);
    expect(tracker.ranked(at + 20_000, 2)).toEqual(first);
    // A long quiet spell: everything leaves both periods and is forgotten.
    expect(tracker.ranked(at + 3 * hour, 10).items).toEqual([]);
    expect(tracker.size()).toBe(0);
  });
});
