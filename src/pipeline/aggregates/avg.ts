import { fieldPathSchema } from '../field-path.js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

/** Mean of a numeric field over the events that have it, null when none did. */
export const avg = (): Aggregate<{ s: number; n: number }> => ({
  create: () => ({ s: 0, n: 0 }),
  add: (state, value) => {
    const n = numeric(value);
    if (n === undefined) return;
    state.s += n;
    state.n += 1;
  },
  merge: (into, from) => {
    into.s += from.s;
    into.n += from.n;
  },
  result: (state) => (state.n === 0 ? null : state.s / state.n),
});

export const avgAggregate = defineAggregate(
  'avg',
  { field: fieldPathSchema },
  { create: () => avg(), rollup: () => ({ fn: 'avg', reads: 'number' }) },
);
