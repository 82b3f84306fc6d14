import { fieldPathSchema } from '../field-path.js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

/** Smallest value of a numeric field, null when there was none. */
export const min = (): Aggregate<{ v: number }> => ({
  create: () => ({ v: Infinity }),
  add: (state, value) => {
    const n = numeric(value);
    if (n !== undefined && n < state.v) state.v = n;
  },
  merge: (into, from) => {
    if (from.v < into.v) into.v = from.v;
  },
  result: (state) => (state.v === Infinity ? null : state.v),
});

export const minAggregate = defineAggregate(
  'min',
  { field: fieldPathSchema },
  { create: () => min(), rollup: () => ({ fn: 'min', reads: 'number' }) },
);
