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
