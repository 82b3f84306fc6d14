import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Service } from '../ops/lifecycle.js';
import { backoffMs } from '../lib/backoff.js';
import { createRowLoss, type LossReason } from './row-loss.js';
import type { Spool } from './spool.js';
import { createSpoolReplay, failureReason } from './spool-replay.js';

export const defaultBatchOptions = {
  // Longest an accepted row waits while an insert is running; with none running, a batch is
  // sent at once (group commit).
  flushIntervalMs: 50,
  maxBatchRows: 20_000, // a batch is sent at once when it reaches this many rows
  maxBufferedRows: 200_000, // rows in memory (open + in flight) before producers are told to wait
  maxInflightInserts: 2, // concurrent inserts: chdb parses on its own thread, so two overlap (measured 1.5× rows/s)
  insertTimeoutMs: 10_000, // an insert slower than this is treated as failed: the batch is spooled
  maxSpoolBytes: 1024 * 1024 * 1024, // disk the spool may use before producers are told to wait; 0: no spool
  retryBaseMs: 200, // first replay (or in-memory) retry delay; doubles per failure, with jitter
  retryMaxMs: 30_000, // cap of the retry delay
  // For writers nobody waits on (windows, decisions): a batch neither ClickHouse nor the spool
  // took stays in memory and is retried, and rows past maxBufferedRows are dropped. Off for
  // events, whose senders are answered STORAGE_FAILED at once and resend.
  retryUnstored: false,
};

export interface BatchWriterDeps<Row> {
  table: string;
  insert(rows: readonly Row[], dedupToken: string, timeoutMs: number): Promise<void>;
  spool: Spool<Row>;
  metrics: Metrics;
  log: Logger;
}

export interface BatchWriter<Row> extends Service {
  enqueue(rows: readonly Row[]): void;
  /** Resolves once every row enqueued so far is in ClickHouse or fsynced in the spool. */
  durable(): Promise<void>;
  /** When producers should wait before sending more: a retry delay in ms, else undefined. */
  pressure(): number | undefined;
  /**
   * Rewrites the rows waiting in the spool through `map` (undefined drops a row), between
   * replays: an erase reaches rows ClickHouse has not taken yet. Answers the rows changed.
   */
  rewriteSpooled(map: (row: Row) => Row | undefined): Promise<number>;
}

interface Batch<Row> {
  rows: Row[];
  done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Batches rows as a group commit (sent at once when no insert runs, gathered while one does,
 * sent by count or after `flushIntervalMs`) and makes each batch durable: inserted into ClickHouse,
 * or, when ClickHouse fails or is slow, fsynced to the disk spool and replayed later with
 * the same dedup token (so a replay after a crash is stored once). At most
 * `maxInflightInserts` inserts run at once, so batches grow by themselves while ClickHouse
 * is busy. Rows neither ClickHouse nor the spool took are counted in
 * `backline_storage_rows_lost_total`: at once (the batch fails, its senders are told), or,
 * with `retryUnstored`, only once retrying in memory ends (memory bound or shutdown).
 *
 * @example
 * const writer = createBatchWriter({ table: 'events', insert, spool, metrics, log });
 * writer.enqueue(rows);
 * await writer.durable(); // now acknowledge
 */
export function createBatchWriter<Row>(
  deps: BatchWriterDeps<Row>,
  options: Partial<typeof defaultBatchOptions> = {},
): BatchWriter<Row> {
  const opts = { ...defaultBatchOptions, ...options };
  const { table, spool, metrics, log } = deps;
  const bootId = randomBytes(4).toString('hex');
  let sequence = 0;
  let open: Batch<Row> | undefined;
  let inflight = 0;
  let newest: Batch<Row> | undefined; // the last batch sent and not yet settled
  let previousSettled: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Immediate | undefined;
  let buffered = 0;
  let lastInsertMs = opts.flushIntervalMs;
  const replay = createSpoolReplay(deps, opts);
  const stopRetries = new AbortController();
  const loss = createRowLoss({ table, metrics, log });

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    clearImmediate(soon);
    soon = undefined;
    if (inflight >= opts.maxInflightInserts || !open) return;
    const batch = open;
    open = undefined;
    inflight += 1;
    newest = batch;
    // Batches settle in the order they were sent even when inserts finish out of order, so
    // waiting for the newest batch means waiting for every older one too.
    const before = previousSettled;
    previousSettled = batch.done.catch(() => undefined);
    persist(batch.rows)
      .then(
        () => before.then(batch.resolve),
        (err: unknown) => before.then(() => batch.reject(err)),
      )
      .finally(() => {
        buffered -= batch.rows.length;
        metrics.rowsBuffered.set(buffered);
        inflight -= 1;
        if (newest === batch) newest = undefined;
        // Rows that arrived during the insert have waited long enough: send them now.
        if (open) flush();
      });
  };

  async function persist(rows: Row[]): Promise<void> {
    const token = `${table}-${bootId}-${sequence++}`;
    metrics.batchRows.observe({ table }, rows.length);
    for (let attempt = 1; ; attempt++) {
      try {
        return await insertOrSpool(rows, token);
      } catch (err) {
        const reason = err instanceof Unstored ? err.reason : 'spool_error';
        if (!opts.retryUnstored || stopRetries.signal.aborted) {
          loss.lost(rows.length, reason, err);
          throw err;
        }
        const delay = backoffMs(attempt, opts.retryBaseMs, opts.retryMaxMs);
        log.warn({ err, table, rows: rows.length, retryInMs: delay }, 'batch kept in memory');
        await sleep(delay, undefined, { signal: stopRetries.signal }).catch(() => undefined);
      }
    }
  }

  /** One attempt, with the same dedup token each time, so a retry is stored once. */
  async function insertOrSpool(rows: Row[], token: string): Promise<void> {
    // While older batches wait in the spool, ClickHouse is known to be failing: queue behind them.
    if (spool.totals().files === 0 || opts.maxSpoolBytes === 0) {
      const started = performance.now();
      try {
        await deps.insert(rows, token, opts.insertTimeoutMs);
        lastInsertMs = performance.now() - started;
        metrics.insertSeconds.observe({ table, outcome: 'ok' }, lastInsertMs / 1000);
        return;
      } catch (err) {
        metrics.insertSeconds.observe(
          { table, outcome: 'error' },
          (performance.now() - started) / 1000,
        );
        metrics.insertFailures.inc({ table, reason: failureReason(err) });
        log.warn({ err, table, rows: rows.length }, 'insert failed, spooling the batch');
        if (opts.maxSpoolBytes === 0)
          throw new Unstored('no_spool', 'insert failed, no spool', err);
      }
    }
    if (spool.totals().bytes >= opts.maxSpoolBytes)
      throw new Unstored('spool_full', 'spool is full');
    try {
      await spool.write(token, rows);
    } catch (err) {
      throw new Unstored('spool_error', 'spool write failed', err);
    }
    replay.setGauges();
    replay.start();
  }

  return {
    name: `batch-writer:${table}`,

    async start() {
      replay.setGauges();
      if (spool.partialsRemoved > 0)
        log.warn({ table, files: spool.partialsRemoved }, 'removed partial spool files of a crash');
      if (spool.totals().files === 0) return;
      // Replayed before ingest opens, so the de-duplication warm-up sees these rows.
      log.info({ table, ...spool.totals() }, 'replaying spooled batches');
      await replay.once();
      if (spool.totals().files > 0) replay.start();
    },

    async stop() {
      // Batches kept in memory get one last attempt, then count as lost.
      stopRetries.abort();
      flush();
      while (open || newest) await (open ?? newest)!.done.catch(() => undefined);
      await replay.stop();
      loss.flush();
    },

    enqueue(rows) {
      if (rows.length === 0) return;
      if (opts.retryUnstored && buffered + rows.length > opts.maxBufferedRows) {
        loss.lost(rows.length, 'buffer_full');
        return;
      }
      open ??= newBatch<Row>();
      for (const row of rows) open.rows.push(row);
      buffered += rows.length;
      metrics.rowsBuffered.set(buffered);
      if (open.rows.length >= opts.maxBatchRows) flush();
      // Group commit: with no insert running, the rows go at the end of this turn of the event
      // loop (with whatever else arrived in it), not after the timer: at 1,000 events/s an ack
      // waited the 50 ms timer plus the insert. While one runs, rows gather until it ends.
      else if (inflight === 0) soon ??= setImmediate(flush);
      else timer ??= setTimeout(flush, opts.flushIntervalMs);
    },

    durable() {
      // Batches settle in order, so the newest one settling means every older one has.
      return (open ?? newest)?.done ?? Promise.resolve();
    },

    rewriteSpooled(map) {
      return replay.exclusive(async () => {
        const changed = await spool.rewrite(map);
        replay.setGauges();
        return changed;
      });
    },

    pressure() {
      if (buffered >= opts.maxBufferedRows) return Math.min(5000, Math.max(100, lastInsertMs * 2));
      if (opts.maxSpoolBytes > 0 && spool.totals().bytes >= opts.maxSpoolBytes) return 5000;
      return undefined;
    },
  };
}

/** A batch neither ClickHouse nor the spool took. */
class Unstored extends Error {
  constructor(
    readonly reason: LossReason,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'Unstored';
  }
}

function newBatch<Row>(): Batch<Row> {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Waiters attach their own handlers; this one keeps an unawaited failure from crashing.
  done.catch(() => undefined);
  return { rows: [], done, resolve, reject };
}
