import { setTimeout as sleep } from 'node:timers/promises';
import { decodeEntry, type LogEntry } from '../cluster/log-entry.js';
import { backoffMs } from '../lib/backoff.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { EventRow } from '../model/event.js';
import { eventsTable, type EventStore } from './event-store.js';
import { entriesToken, unstoredRows } from './log-batch.js';
import type { GroupEntry, LogGroup } from './redis-log-group.js';
import { failureReason } from './spool-replay.js';

export interface EntryWriterDeps {
  group: LogGroup;
  store: Pick<EventStore, 'insert' | 'storedIds'>;
  metrics: Metrics;
  log: Logger;
  /** Aborted on stop: a retry in progress ends, its entries stay pending in Redis. */
  signal: AbortSignal;
}

export interface EntryWriterOptions {
  insertTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** How entries came to this consumer: read new, or pending when it started, or claimed. */
export type EntryPath = 'live' | 'start' | 'claimed';

/**
 * Stores a batch of log entries in ClickHouse, then acks them. Entries whose earlier insert
 * may have landed (pending at start, claimed, or after a failed attempt) take the recovery
 * path: only the rows ClickHouse does not hold yet are inserted. A failure is retried with
 * capped backoff until it works or the consumer stops; meanwhile the entries stay pending in
 * Redis, so nothing is lost. Before each retry the entries are claimed again (idle time reset),
 * so no other consumer takes them as a dead consumer's; entries another consumer took anyway
 * are left to it.
 */
export function createEntryWriter(deps: EntryWriterDeps, opts: EntryWriterOptions) {
  const { group, metrics, log } = deps;

  async function insert(rows: EventRow[], token: string): Promise<void> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    metrics.batchRows.observe({ table: eventsTable }, rows.length);
    try {
      await deps.store.insert(rows, token, opts.insertTimeoutMs);
      metrics.insertSeconds.observe({ table: eventsTable, outcome: 'ok' }, seconds());
    } catch (err) {
      metrics.insertSeconds.observe({ table: eventsTable, outcome: 'error' }, seconds());
      metrics.insertFailures.inc({ table: eventsTable, reason: failureReason(err) });
      throw err;
    }
  }

  /** One attempt: insert (all rows, or in recovery the unstored ones), then ack. */
  async function attempt(items: readonly Decoded[], recovery: boolean): Promise<void> {
    const entries = items.map((item) => item.entry);
    const decoded = items.map((item) => item.decoded);
    let rows = decoded.flatMap((entry) => entry.rows);
    if (recovery) {
      const unstored = await unstoredRows(deps.store, decoded).catch((err: unknown) => {
        metrics.consumerFailures.inc({ reason: 'clickhouse_error' });
        throw err;
      });
      metrics.consumerRowsAlreadyStored.inc(unstored.stored);
      rows = unstored.rows;
    }
    if (rows.length > 0) await insert(rows, entriesToken(entries));
    metrics.consumerRows.inc({ path: recovery ? 'recovery' : 'live' }, rows.length);
    await group.ack(entries);
  }

  /** Claims the entries again before a retry; keeps those still this consumer's. */
  async function keepOwn(items: readonly Decoded[]): Promise<Decoded[]> {
    try {
      const own = await group.touch(items.map((item) => item.entry));
      const kept = new Set(own.map(position));
      return items.filter((item) => kept.has(position(item.entry)));
    } catch {
      return [...items]; // Redis unreachable: the next attempt fails too and retries
    }
  }

  return async function write({ items, dropped }: DecodedBatch, path: EntryPath): Promise<void> {
    // An entry that will never decode is acked so it does not come back; if this ack fails,
    // it stays pending and is dropped again when recovered.
    if (dropped.length > 0) await group.ack(dropped).catch(() => undefined);
    let recovery = path !== 'live';
    if (recovery) metrics.consumerRecoveries.inc({ reason: path });
    for (let failures = 1, left = items; left.length > 0; failures++) {
      try {
        return await attempt(left, recovery);
      } catch (err) {
        const delay = backoffMs(failures, opts.retryBaseMs, opts.retryMaxMs);
        log.warn({ err, entries: left.length, retryInMs: delay }, 'storing log entries failed');
        await sleep(delay, undefined, { signal: deps.signal }).catch(() => undefined);
        if (deps.signal.aborted) return;
        left = await keepOwn(left);
        if (!recovery) metrics.consumerRecoveries.inc({ reason: 'retry' });
        recovery = true;
      }
    }
  };
}

export type EntryWriter = ReturnType<typeof createEntryWriter>;

export interface Decoded {
  entry: GroupEntry;
  decoded: LogEntry;
}

/** Entries read from the group, decoded once; `dropped` are those that are gone or corrupt. */
export interface DecodedBatch {
  items: Decoded[];
  dropped: GroupEntry[];
}

// Stream ids are per stream: two partitions can hold the same id.
const position = (entry: GroupEntry) => `${entry.partition}/${entry.id}`;

/** Decodes every entry into `into`; one that is gone or does not decode is counted and set apart. */
export function decodeBatch(
  batch: readonly GroupEntry[],
  deps: Pick<EntryWriterDeps, 'metrics' | 'log'>,
  into: DecodedBatch = { items: [], dropped: [] },
): DecodedBatch {
  const { items, dropped } = into;
  for (const entry of batch) {
    try {
      if (!entry.fields) throw new Error('entry deleted from the log while pending');
      items.push({ entry, decoded: decodeEntry(entry.id, entry.fields) });
    } catch (err) {
      dropped.push(entry);
      deps.metrics.consumerFailures.inc({ reason: 'bad_entry' });
      deps.log.error({ err, partition: entry.partition, id: entry.id }, 'log entry dropped');
    }
  }
  return into;
}
