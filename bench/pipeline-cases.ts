/**
 * The server configurations the pipeline throughput scenario compares, all over the same
 * bench events (`page.view`, 1,000 users, `props.ms` 0–500, `props.g` the group value).
 */

export interface PipelineCase {
  label: string;
  streams: object[];
  /** Distinct values of `props.g` in the load. */
  groups: number;
  /** Fill `groups` distinct keys first and read the memory they take (window-memory.ts). */
  measureMemory: boolean;
  /** Run in the CI smoke run too (`--quick`): one case of each path, to stay within seconds. */
  quick: boolean;
}

// Each stream takes every bench event; the aggregates cycle so that 10 and 100 streams mix
// the cheap count with the state-keeping uniq and quantiles.
const aggregates = [
  { name: 'views', fn: 'count' },
  { name: 'users', fn: 'uniq', field: 'userId' },
  { name: 'load_ms', fn: 'quantiles', field: 'props.ms', q: [0.5, 0.95, 0.99] },
];

/**
 * `n` ungrouped streams, 10 s windows, early updates every second (the example streams'
 * shape). Each has a definition of its own, not only a name: a bound on `props.ms` (0–500)
 * that every event passes, a different one per stream, so nothing that shares the work of
 * identical definitions (in the pipeline or in ClickHouse) makes many streams look cheap.
 */
export function flatStreams(n: number): object[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `flat_${i}`,
    source: { types: ['page.view'], where: [{ field: 'props.ms', op: 'lt', value: 1000 + i }] },
    window: { kind: 'tumbling', sizeMs: 10_000 },
    aggregates: [aggregates[i % aggregates.length]],
    emit: { mode: 'early', everyMs: 1000 },
  }));
}

/** One stream grouped by `props.g` with all three aggregates; a minute's windows. */
export const groupedStream = {
  name: 'grouped',
  source: { types: ['page.view'] },
  groupBy: ['props.g'],
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates,
  emit: { mode: 'early', everyMs: 1000 },
};

/** Every case, `keys` being the distinct keys of the many-keys case (options.windowKeys). */
export function pipelineCases(keys: number): PipelineCase[] {
  const manyKeys = `1 stream, ${keys.toLocaleString('en-US')} keys`;
  const plain = { measureMemory: false, quick: false };
  return [
    { label: 'no streams', streams: [], groups: keys, measureMemory: true, quick: true },
    { label: '1 stream (count)', streams: flatStreams(1), groups: keys, ...plain },
    { label: '10 streams', streams: flatStreams(10), groups: keys, ...plain },
    { label: '100 streams', streams: flatStreams(100), groups: keys, ...plain, quick: true },
    { label: '1 stream, 10 keys', streams: [groupedStream], groups: 10, ...plain },
    { label: manyKeys, streams: [groupedStream], groups: keys, measureMemory: true, quick: true },
  ];
}
