import { z } from 'zod';
import type { RollupFunction } from '../../storage/rollup-sql.js';
import { readField, type FieldReader } from '../field-path.js';
import type { Aggregate, AggregateDefinition } from './aggregate.js';
import { avgAggregate } from './avg.js';
import { countAggregate } from './count.js';
import { maxAggregate } from './max.js';
import { minAggregate } from './min.js';
import { quantilesAggregate } from './quantiles.js';
import { sumAggregate } from './sum.js';
import { topKAggregate } from './top-k.js';
import { uniqAggregate } from './uniq.js';

/**
 * Every aggregate function, once: adding one is its own file and one line here. Stream
 * definitions, the pipeline and the rollups read them from this list; its order is the
 * order in which an unknown `fn` lists the known ones.
 */
const aggregates = [
  countAggregate,
  sumAggregate,
  minAggregate,
  maxAggregate,
  avgAggregate,
  uniqAggregate,
  quantilesAggregate,
  topKAggregate,
] as const;

type SchemasOf<T extends readonly unknown[]> = {
  [I in keyof T]: T[I] extends { schema: infer S } ? S : never;
};

/** One entry of a stream's `aggregates`: `{ name, fn, … }`. */
export const aggregateSpecSchema = z.discriminatedUnion(
  'fn',
  aggregates.map((a) => a.schema) as unknown as SchemasOf<typeof aggregates>,
);

export type AggregateSpec = z.output<typeof aggregateSpecSchema>;

const byFn = new Map<string, AggregateDefinition>(aggregates.map((a) => [a.fn, a]));
const definitionOf = (spec: AggregateSpec): AggregateDefinition => byFn.get(spec.fn)!;

/** An aggregate bound to the field it reads. */
export interface BoundAggregate {
  name: string;
  read: FieldReader | undefined;
  fn: Aggregate;
}

export function bindAggregate(spec: AggregateSpec): BoundAggregate {
  const read = spec.field ? readField(spec.field) : undefined;
  return { name: spec.name, read, fn: definitionOf(spec).create(spec) };
}

/** The ClickHouse function that rolls `spec` up by the hour. */
export const rollupFunctionOf = (spec: AggregateSpec): RollupFunction =>
  definitionOf(spec).rollup(spec);

/** A merged rollup value as the pipeline's result for `spec` reads. */
export function fromRollup(spec: AggregateSpec, value: unknown): unknown {
  const definition = definitionOf(spec);
  if (definition.fromRollup) return definition.fromRollup(value, spec);
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
