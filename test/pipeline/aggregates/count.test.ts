import { describe, expect, it } from 'vitest';
import { count } from '../../../src/pipeline/aggregates/count.js';

describe('count', () => {
  it('without a field counts every event', () => {
    const events = count(false);
    const state = events.create();
    for (const value of [undefined, null, 0, 'x']) events.add(state, value);
    expect(events.result(state)).toBe(4);
  });

  it('with a field counts the events where it is present and not null', () => {
    const present = count(true);
    const state = present.create();
    for (const value of [undefined, null, 0, '', false, 'x']) present.add(state, value);
    expect(present.result(state)).toBe(4);
  });

  it('merges by adding, and starts at zero', () => {
    const events = count(false);
    const [a, b] = [events.create(), events.create()];
    expect(events.result(a)).toBe(0);
    events.add(a, 1);
    events.add(b, 1);
    events.add(b, 1);
    events.merge(a, b);
    expect(events.result(a)).toBe(3);
    expect(events.result(b)).toBe(2);
  });
});
