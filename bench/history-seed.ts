/**
 * The history scenario's seed: opens the embedded ClickHouse of a server's data folder before
 * the server starts, applies backline's migrations, creates the stream's rollup table as the
 * server would (empty, its marker before any event), then stores the events in SQL from
 * `numbers()` (deterministic hashes: the same rows every run) one UTC day per insert, and
 * the stream's closed windows computed from them as the pipeline would have written them.
 * The rollup is left to the server's roller, which the scenario times. Prints one JSON line
 * (HistorySeedResult); run by seed-process.ts.
 *
 * Run: `node --import tsx bench/history-seed.ts <data folder> <events> <days> <end ms> <users>`
 */
import { rollupFunctionOf } from '../src/pipeline/aggregates/index.js';
import { streamSpecSchema, type StreamSpec } from '../src/pipeline/stream-spec.js';
import type { ClickHouse } from '../src/storage/clickhouse.js';
import { numberOf, quote, textOf } from '../src/storage/field-sql.js';
import { rollupParts, type RollupParts } from '../src/storage/rollup-sql.js';
import { createRollupStore } from '../src/storage/rollup-store.js';
import {
  dayMs,
  eventTypes,
  historyProject,
  historyStream,
  type HistorySeedResult,
  type HistorySeedSpec,
} from './history-data.js';
import { eventParts, seedMain } from './seed-process.js';

const project = quote(historyProject);
const plans = ['free', 'pro', 'team'];
const sessionMs = 1800_000; // a user's events within half an hour share a session id

/** One day's rows: numbers [first, first + count) of `events` spread evenly over the span. */
function eventsSql(seed: HistorySeedSpec, first: number, count: number): string {
  const startMs = seed.endMs - seed.days * dayMs;
  const spanMs = seed.days * dayMs;
  const list = (values: readonly string[]) => `[${values.map(quote).join(', ')}]`;
  return `INSERT INTO events
      (project, type, ts, client_ts, sent_at, received_at, id, user_id, anonymous_id, session_id, props)
    WITH cityHash64(number, 2) % ${seed.users} AS user,
      toInt64(${startMs} + intDiv(number * ${spanMs}, ${seed.events})) AS ts_ms
    SELECT ${project},
      ${list(eventTypes)}[1 + cityHash64(number, 1) % ${eventTypes.length}],
      fromUnixTimestamp64Milli(ts_ms, 'UTC') AS t, t AS client_t, NULL, t AS received_t,
      concat('h', toString(number)),
      concat('u', toString(user)),
      '',
      concat('s', toString(user), '-', toString(intDiv(ts_ms, ${sessionMs}))),
      concat('{"plan":"', ${list(plans)}[1 + cityHash64(user, 3) % ${plans.length}],
        '","ms":', toString(1 + cityHash64(number, 4) % 2000), '}')
    FROM numbers(${first}, ${count})`;
}

/** One aggregate's window result in SQL, as the pipeline computes it (exact for this data). */
function resultSql(aggregate: StreamSpec['aggregates'][number]): string {
  const field = 'field' in aggregate ? aggregate.field : undefined;
  switch (aggregate.fn) {
    case 'count':
      return field === undefined ? 'count()' : `countIf(${textOf(field)} IS NOT NULL)`;
    case 'uniq':
      return `uniqExact(${textOf(aggregate.field)})`;
    case 'sum':
      return `sum(coalesce(${numberOf(aggregate.field)}, 0))`;
    case 'max':
      return `max(${numberOf(aggregate.field)})`;
    default:
      throw new Error(`the seed computes no ${aggregate.fn} window`);
  }
}

/**
 * The stream's final windows over every seeded event: rev 1, emitted at the watermark. Its
 * events and their group key are the rollup's own (`rollupParts`), as the pipeline keys them.
 */
function windowsSql(spec: StreamSpec, stream: Pick<RollupParts, 'key' | 'where'>): string {
  if (spec.window.kind !== 'tumbling') throw new Error('the seed writes tumbling windows only');
  const size = spec.window.sizeMs;
  const values = spec.aggregates.map(
    (a, i) => `'${i === 0 ? '{' : ','}${JSON.stringify(a.name)}:', toString(${resultSql(a)})`,
  );
  return `INSERT INTO stream_windows (project, stream, key, start, \`end\`, rev, \`values\`, emitted_at)
    SELECT ${project}, ${quote(spec.name)}, ${stream.key} AS k,
      fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(ts), ${size}) * ${size}, 'UTC') AS s,
      s + toIntervalMillisecond(${size}), toUInt32(1), concat(${values.join(', ')}, '}'),
      s + toIntervalMillisecond(${size + spec.outOfOrderMs})
    FROM events
    WHERE ${stream.where}
    GROUP BY k, s`;
}

async function seed(ch: ClickHouse, spec: HistorySeedSpec): Promise<HistorySeedResult> {
  const stream = streamSpecSchema.parse(historyStream);
  // Marked before any event: the server's roller, not a backfill at its start, rolls them.
  const rollup = { ...stream, functions: stream.aggregates.map(rollupFunctionOf) };
  await createRollupStore(ch).ensure(historyProject, rollup);

  const began = performance.now();
  for (let day = 0; day < spec.days; day++) {
    const first = Math.floor((day * spec.events) / spec.days);
    const next = Math.floor(((day + 1) * spec.events) / spec.days);
    await ch.exec(eventsSql(spec, first, next - first));
  }
  const eventsSeconds = (performance.now() - began) / 1000;
  const windowsBegan = performance.now();
  await ch.exec(windowsSql(stream, rollupParts(historyProject, rollup)));
  const windowsSeconds = (performance.now() - windowsBegan) / 1000;

  const types = (stream.source.types ?? []).map(quote).join(', ');
  const [counts] = await ch.query<{ events: string; stream: string }>(
    `SELECT toString(count()) AS events, toString(countIf(type IN (${types}))) AS stream
     FROM events WHERE project = ${project}`,
  );
  const [windows] = await ch.query<{ n: string }>(
    `SELECT toString(count()) AS n FROM stream_windows FINAL WHERE project = ${project}`,
  );
  return {
    events: Number(counts?.events ?? 0),
    streamEvents: Number(counts?.stream ?? 0),
    windows: Number(windows?.n ?? 0),
    eventParts: await eventParts(ch),
    eventsSeconds,
    windowsSeconds,
  };
}

seedMain(['events', 'days', 'end ms', 'users'], (ch, [events, days, endMs, users]) =>
  seed(ch, { events: events!, days: days!, endMs: endMs!, users: users! }),
);
