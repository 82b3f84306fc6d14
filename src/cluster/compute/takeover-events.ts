import type { Redis } from 'ioredis';
import { toStreamEvent, type EventRow, type StreamEvent } from '../../model/event.js';
import { decodeEntry, entriesOf, logKey } from '../log-entry.js';

export const defaultTakeoverOptions = {
  maxEventsPerStream: 1_000_000, // stored events one stream re-reads (as pipeline/replay-recent.ts)
  logPageSize: 1000, // entries per XRANGE while reading the retained log
};

export type TakeoverOptions = typeof defaultTakeoverOptions;

/** A stream as the takeover reads it (`streamReach` in pipeline/replay-recent.ts). */
export interface StreamReach {
  name: string;
  /** The event types it takes; undefined: every type. */
  types: readonly string[] | undefined;
  /** How far before its newest event its open windows can reach back, in ms. */
  reachMs: number;
}

/** The stored events a takeover reads (the EventStore of src/storage). */
export interface StoredEvents {
  eventsSince(
    project: string,
    sinceMs: number,
    types: readonly string[] | undefined,
    limit: number,
  ): Promise<EventRow[]>;
  latestTs(project: string, types: readonly string[] | undefined): Promise<number | undefined>;
}

export interface TakeoverDeps {
  redis: Redis;
  store: StoredEvents;
  streams(project: string): readonly StreamReach[];
  /** An entry of the log that does not decode: skipped, counted by the caller. */
  onBadEntry(id: string, err: unknown): void;
}

export interface TakeoverEvents {
  /** Per project, per stream name: what rebuilds its open windows, in event-time order. */
  byProject: Map<string, Map<string, StreamEvent[]>>;
  /** The last log entry read ('0-0' for none): every entry up to it is in the rebuild. */
  upTo: string;
  /** Events fed from ClickHouse and from the log (a shared event counts once per stream). */
  counts: { stored: number; log: number };
}

/**
 * The events that rebuild the open windows of a partition's projects, as a single-node
 * restart does (`replayRecent`: stored events over each stream's reach) plus the retained log
 * entries not stored yet. ClickHouse is read first: everything stored by then was appended
 * before the log is read, so every event it gave is in an entry up to `upTo`, and live
 * consumption feeds the streams only after `upTo`.
 */
export async function gatherTakeoverEvents(
  deps: TakeoverDeps,
  partition: number,
  projects: readonly string[],
  opts: TakeoverOptions,
  now = Date.now(),
): Promise<TakeoverEvents> {
  const stored = new Map<string, Array<{ spec: StreamReach; rows: EventRow[]; latest?: number }>>();
  for (const project of projects) {
    const list = [];
    for (const spec of deps.streams(project)) {
      const latest = await deps.store.latestTs(project, spec.types);
      const since = Math.min(now, latest ?? now) - spec.reachMs;
      const rows =
        latest === undefined
          ? []
          : await deps.store.eventsSince(project, since, spec.types, opts.maxEventsPerStream);
      list.push({ spec, rows, ...(latest === undefined ? {} : { latest }) });
    }
    if (list.length > 0) stored.set(project, list);
  }
  const retained = await readRetained(deps, partition, new Set(stored.keys()), opts.logPageSize);
  const result: TakeoverEvents = {
    byProject: new Map(),
    upTo: retained.upTo,
    counts: { stored: 0, log: 0 },
  };
  for (const [project, streams] of stored) {
    const perStream = new Map<string, StreamEvent[]>();
    for (const { spec, rows, latest } of streams) {
      const merged = mergeStream(spec, rows, retained.byProject.get(project) ?? [], latest, now);
      result.counts.stored += merged.stored;
      result.counts.log += merged.events.length - merged.stored;
      perStream.set(spec.name, merged.events);
    }
    result.byProject.set(project, perStream);
  }
  return result;
}

/** One stream's stored events and log events not stored, within its reach, by event time. */
function mergeStream(
  spec: StreamReach,
  rows: readonly EventRow[],
  logged: readonly StreamEvent[],
  latestStored: number | undefined,
  now: number,
) {
  const types = spec.types ? new Set(spec.types) : undefined;
  const storedIds = new Set(rows.map((row) => row.id));
  const fresh = logged.filter((e) => (!types || types.has(e.type)) && !storedIds.has(e.id));
  let latest = latestStored ?? -Infinity;
  for (const event of fresh) latest = Math.max(latest, event.ts);
  if (latest === -Infinity) return { events: [], stored: 0 };
  const since = Math.min(now, latest) - spec.reachMs;
  const events = rows
    .map((row) => toStreamEvent(row, JSON.parse(row.props) as Record<string, unknown>))
    .filter((e) => e.ts >= since);
  const stored = events.length;
  for (const event of fresh) if (event.ts >= since) events.push(event);
  // Stable: events of one time keep the order ClickHouse, then the log, gave them.
  events.sort((a, b) => a.ts - b.ts);
  return { events, stored };
}

/** The retained entries of `log:<p>` of these projects, up to the newest one now. */
async function readRetained(
  deps: TakeoverDeps,
  partition: number,
  projects: ReadonlySet<string>,
  pageSize: number,
) {
  const key = logKey(partition);
  const byProject = new Map<string, StreamEvent[]>();
  const newest = await deps.redis.xrevrangeBuffer(key, '+', '-', 'COUNT', 1);
  const upTo = newest[0]?.[0].toString() ?? '0-0';
  if (upTo === '0-0' || projects.size === 0) return { byProject, upTo };
  let start = '-';
  for (;;) {
    const page = entriesOf(key, await deps.redis.xrangeBuffer(key, start, upTo, 'COUNT', pageSize));
    for (const raw of page) {
      try {
        const entry = decodeEntry(raw.id, raw.fields ?? []);
        if (!projects.has(entry.project)) continue;
        let events = byProject.get(entry.project);
        if (!events) byProject.set(entry.project, (events = []));
        entry.rows.forEach((row, i) => events.push(toStreamEvent(row, entry.props[i] ?? {})));
      } catch (err) {
        deps.onBadEntry(raw.id, err);
      }
    }
    if (page.length < pageSize) return { byProject, upTo };
    start = `(${page[page.length - 1]!.id}`;
  }
}
