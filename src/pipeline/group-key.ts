import { asText } from './aggregates/aggregate.js';
import { readField } from './field-path.js';
import type { StreamEvent } from '../model/event.js';

/**
 * The group key of an event: the `groupBy` fields as text joined by `|` (absent fields are
 * empty), or '' for a stream without grouping. The same text comes back in `W.key`.
 */
export function compileGroupKey(groupBy: readonly string[]): (event: StreamEvent) => string {
  if (groupBy.length === 0) return () => '';
  const readers = groupBy.map(readField);
  if (readers.length === 1) {
    const read = readers[0]!;
    return (event) => asText(read(event)) ?? '';
  }
  return (event) => readers.map((read) => asText(read(event)) ?? '').join('|');
}
