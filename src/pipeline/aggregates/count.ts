import { fieldPathSchema } from '../field-path.js';
import { defineAggregate, type Aggregate } from './aggregate.js';

/** Events in the window (with a field: events where the field is present). */
export const count = (hasField: boolean): Aggregate<{ n: number }> => ({
  create: () => ({ n: 0 }),
  add: (state, value) => {
    if (!hasField || (value !== undefined && value !== null)) state.n += 1;
  },
  merge: (into, from) => {
    into.n += from.n;
  },
  result: (state) => state.n,
});

/** `count`: events in the window, or with `field`, events that have it. */
export const countAggregate = defineAggregate(
  'count',
  { field: fieldPathSchema.optional() },
  {
    create: (spec) => count(spec.field !== undefined),
    rollup: () => ({ fn: 'count', reads: 'text', typedState: false }),
  },
);
