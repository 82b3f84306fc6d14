import { fieldPathSchema } from '../field-path.js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

/** Sum of a numeric field; non-numbers are skipped. */
export const sum = (): Aggregate<{ s: number }> => ({
  create: () => ({ s: 0 }),
  add: (state, value) => {
    state.s += numeric(value) ?? 0;
  },
  merge: (into, from) => {
    into.s += from.s;
  },
  result: (state) => state.s,
});

export const sumAggregate = defineAggregate(
  'sum',
  { field: fieldPathSchema },
  { create: () => sum(), rollup: () => ({ fn: 'sum', reads: 'number' }) },
);
