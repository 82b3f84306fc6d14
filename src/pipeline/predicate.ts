import { readField } from './field-path.js';
import type { Condition, StreamSpec } from './stream-spec.js';
import type { StreamEvent } from '../model/event.js';

export type Predicate = (event: StreamEvent) => boolean;

/** A stream's source: its event types and every `where` condition (all must hold). */
export function compileSource(source: StreamSpec['source']): Predicate {
  const types = source.types ? new Set(source.types) : undefined;
  const conditions = source.where.map(compileCondition);
  // A loop, not `every` with a closure: rules run this for every event, many times over.
  return (event) => {
    if (types !== undefined && !types.has(event.type)) return false;
    for (const check of conditions) if (!check(event)) return false;
    return true;
  };
}

function compileCondition({ field, op, value }: Condition): Predicate {
  const read = readField(field);
  switch (op) {
    case 'exists':
      return (event) => {
        const actual = read(event);
        return actual !== undefined && actual !== null;
      };
    case 'eq':
      return (event) => read(event) === value;
    case 'ne':
      return (event) => read(event) !== value;
    case 'in': {
      const allowed = new Set(Array.isArray(value) ? value : [value]);
      return (event) => allowed.has(read(event));
    }
    default: {
      const bound = value as number | string;
      const compare = {
        gt: (a: number | string) => a > bound,
        gte: (a: number | string) => a >= bound,
        lt: (a: number | string) => a < bound,
        lte: (a: number | string) => a <= bound,
      }[op];
      return (event) => {
        const actual = read(event);
        return (
          (typeof actual === 'number' || typeof actual === 'string') &&
          typeof actual === typeof bound &&
          compare(actual)
        );
      };
    }
  }
}
