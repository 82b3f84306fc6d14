import { z } from 'zod';
import type { RollupFunction } from '../../storage/rollup-sql.js';

/**
 * One aggregate function over the events of a window. States are mutable and mergeable, so
 * session windows can merge and hopping windows can share code with tumbling ones.
 */
export interface Aggregate<S = unknown> {
  create(): S;
  /** `value` is the aggregate's field of one event (undefined when absent). */
  add(state: S, value: unknown): void;
  merge(into: S, from: S): void;
  result(state: S): unknown;
}

export const numeric = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Strings and numbers as a grouping or distinct value; anything else is JSON text. */
export const asText = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
};

/** An aggregate's spec schema: its `name`, its `fn` and its own settings. */
function specSchema<F extends string, Shape extends z.ZodRawShape>(fn: F, shape: Shape) {
  return z.object({ name: z.string().min(1), fn: z.literal(fn), ...shape });
}

type SpecOf<F extends string, Shape extends z.ZodRawShape> = z.output<
  ReturnType<typeof specSchema<F, Shape>>
>;

/** Everything backline knows of one aggregate function, listed once in ./index.ts. */
export interface AggregateDefinition<
  F extends string = string,
  Shape extends z.ZodRawShape = z.ZodRawShape,
> {
  fn: F;
  /** Its part of a stream's definition (`aggregates[i]`). */
  schema: ReturnType<typeof specSchema<F, Shape>>;
  /** The in-memory aggregate for one spec, fed by the pipeline. */
  create(spec: SpecOf<F, Shape>): Aggregate;
  /** How ClickHouse rolls it up by the hour: its function and what it reads. */
  rollup(spec: SpecOf<F, Shape>): RollupFunction;
  /** A merged rollup value in the shape `create(spec).result` gives; numbers by default. */
  fromRollup?(value: unknown, spec: SpecOf<F, Shape>): unknown;
}

/**
 * Declares an aggregate: `fn` plus its own settings beyond `name`, and its parts.
 *
 * @example
 * export const sumAggregate = defineAggregate('sum', { field: fieldPathSchema }, {
 *   create: () => sum(),
 *   rollup: () => ({ fn: 'sum', reads: 'number' }),
 * });
 */
export function defineAggregate<F extends string, Shape extends z.ZodRawShape>(
  fn: F,
  shape: Shape,
  parts: Omit<AggregateDefinition<F, Shape>, 'fn' | 'schema'>,
): AggregateDefinition<F, Shape> {
  return { fn, schema: specSchema(fn, shape), ...parts };
}
