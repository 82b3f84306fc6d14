import { readField, type FieldReader } from '../field-path.js';
import type { AggregateSpec } from '../stream-spec.js';
import type { Aggregate } from './aggregate.js';
import { avg } from './avg.js';
import { count } from './count.js';
import { max } from './max.js';
import { min } from './min.js';
import { quantiles } from './quantiles.js';
import { sum } from './sum.js';
import { topK } from './top-k.js';
import { uniq } from './uniq.js';

/** An aggregate bound to the field it reads. */
export interface BoundAggregate {
  name: string;
  read: FieldReader | undefined;
  fn: Aggregate;
}

export function bindAggregate(spec: AggregateSpec): BoundAggregate {
  const read = spec.field ? readField(spec.field) : undefined;
  return { name: spec.name, read, fn: createAggregate(spec) };
}

function createAggregate(spec: AggregateSpec): Aggregate {
  switch (spec.fn) {
    case 'count':
      return count(spec.field !== undefined);
    case 'sum':
      return sum();
    case 'min':
      return min();
    case 'max':
      return max();
    case 'avg':
      return avg();
    case 'uniq':
      return uniq();
    case 'quantiles':
      return quantiles(spec.q);
    case 'topK':
      return topK(spec.k);
  }
}
