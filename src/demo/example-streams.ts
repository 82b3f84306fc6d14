import { streamSpecSchema, type StreamSpec } from '../pipeline/stream-spec.js';

/**
 * The development project's streams, from the live-music app backline grew out of, so that
 * `npm start` shows numbers moving as soon as events arrive.
 */
export const exampleStreams: StreamSpec[] = [
  {
    name: 'votes_per_show',
    source: { types: ['vote.cast'] },
    groupBy: ['props.showId'],
    window: { kind: 'tumbling', sizeMs: 60_000 },
    aggregates: [
      { name: 'votes', fn: 'count' },
      { name: 'voters', fn: 'uniq', field: 'userId' },
    ],
    emit: { mode: 'early', everyMs: 1000 },
  },
  {
    name: 'active_users',
    window: { kind: 'tumbling', sizeMs: 10_000 },
    aggregates: [{ name: 'users', fn: 'uniq', field: 'userId' }],
    outOfOrderMs: 2000,
    emit: { mode: 'early', everyMs: 1000 },
  },
  {
    name: 'page_load',
    source: { types: ['page.view'], where: [{ field: 'props.loadMs', op: 'exists' }] },
    window: { kind: 'tumbling', sizeMs: 60_000 },
    aggregates: [
      { name: 'load_ms', fn: 'quantiles', field: 'props.loadMs', q: [0.5, 0.95] },
      { name: 'views', fn: 'count' },
    ],
    emit: { mode: 'early', everyMs: 1000 },
  },
  {
    name: 'top_songs',
    source: { types: ['vote.cast'], where: [{ field: 'props.songId', op: 'exists' }] },
    window: { kind: 'tumbling', sizeMs: 300_000 },
    aggregates: [{ name: 'songs', fn: 'topK', field: 'props.songId', k: 10 }],
    emit: { mode: 'early', everyMs: 2000 },
  },
].map((spec) => streamSpecSchema.parse(spec));
