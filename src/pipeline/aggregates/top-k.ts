import { z } from 'zod';
import { fieldPathSchema } from '../field-path.js';
import { asText, defineAggregate, type Aggregate } from './aggregate.js';

/**
 * The k most frequent values of a field with the Space-Saving algorithm (Metwally et al.):
 * at most `capacity` counters; exact while there are no more distinct values than that,
 * otherwise each count overestimates by at most the smallest counter.
 */
export const topK = (
  k: number,
  capacity = Math.max(100, k * 10),
): Aggregate<Map<string, number>> => ({
  create: () => new Map(),
  add: (state, value) => {
    const text = asText(value);
    if (text !== undefined) increment(state, text, 1, capacity);
  },
  merge: (into, from) => {
    for (const [value, n] of from) increment(into, value, n, capacity);
  },
  result: (state) =>
    [...state]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([value, count]) => ({ value, count })),
});

function increment(
  counters: Map<string, number>,
  value: string,
  n: number,
  capacity: number,
): void {
  const current = counters.get(value);
  if (current !== undefined || counters.size < capacity) {
    counters.set(value, (current ?? 0) + n);
    return;
  }
  // Replace the smallest counter: the newcomer inherits its count (Space-Saving's bound).
  let smallest = '';
  let smallestCount = Infinity;
  for (const [candidate, c] of counters) {
    if (c < smallestCount) {
      smallest = candidate;
      smallestCount = c;
    }
  }
  counters.delete(smallest);
  counters.set(value, smallestCount + n);
}

/** ClickHouse's topK keeps no counts: a rollup lists the values, most frequent first. */
export const topKAggregate = defineAggregate(
  'topK',
  { field: fieldPathSchema, k: z.number().int().min(1).max(1000).default(10) },
  {
    create: (spec) => topK(spec.k),
    rollup: (spec) => ({ fn: 'topK', params: [spec.k], reads: 'text' }),
    fromRollup: (value) => (value as string[]).map((v) => ({ value: v })),
  },
);
