import { fieldPathSchema } from '../field-path.js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

/** Largest value of a numeric field, null when there was none. */
export const max = (): Aggregate<{ v: number }> => ({
  create: () => ({ v: -Infinity }),
  add: (state, value) => {
    const n = numeric(value);
    if (n !== undefined && n > state.v) state.v = n;
  },
  merge: (into, from) => {
    if (from.v > into.v) into.v = from.v;
  },
  result: (state) => (state.v === -Infinity ? null : state.v),
});

export const maxAggregate = defineAggregate(
  'max',
  { field: fieldPathSchema },
  { create: () => max(), rollup: () => ({ fn: 'max', reads: 'number' }) },
);
