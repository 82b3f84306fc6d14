import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Service } from '../ops/lifecycle.js';
import { backoffMs } from '../ops/backoff.js';
import type { Spool } from './spool.js';

export const defaultBatchOptions = {
  flushIntervalMs: 50, // longest an accepted row waits before its batch is sent
  maxBatchRows: 20_000, // a batch is sent at once when it reaches this many rows
  maxBufferedRows: 200_000, // rows in memory (open + in flight) before producers are told to wait
  maxInflightInserts: 2, // concurrent inserts: chdb parses on its own thread, so two overlap (measured 1.5× rows/s)
  insertTimeoutMs: 10_000, // an insert slower than this is treated as failed: the batch is spooled
  maxSpoolBytes: 1024 * 1024 * 1024, // disk the spool may use before producers are told to wait
  retryBaseMs: 200, // first spool replay retry delay; doubles per failure, with jitter
  retryMaxMs: 30_000, // cap of the replay retry delay
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
}

interface Batch<Row> {
  rows: Row[];
  done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Batches rows by count and by time and makes each batch durable: inserted into ClickHouse,
 * or, when ClickHouse fails or is slow, fsynced to the disk spool and replayed later with
 * the same dedup token (so a replay after a crash is stored once). One insert is in flight
 * at a time, so batches grow by themselves while ClickHouse is busy.
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
  let buffered = 0;
  let lastInsertMs = opts.flushIntervalMs;
  let replay: Promise<void> | undefined;
  const stopReplay = new AbortController();

  const setSpoolGauges = () => {
    const { rows, bytes } = spool.totals();
    metrics.rowsSpooled.set(rows);
    metrics.spoolBytes.set(bytes);
  };

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
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
    // While older batches wait in the spool, ClickHouse is known to be failing: queue behind them.
    if (spool.totals().files === 0) {
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
      }
    }
    if (spool.totals().bytes >= opts.maxSpoolBytes) throw new Error('spool is full');
    await spool.write(token, rows);
    setSpoolGauges();
    startReplay();
  }

  function startReplay(): void {
    replay ??= replaySpool().finally(() => {
      replay = undefined;
    });
  }

  /** Inserts spooled batches oldest first; retries with backoff unless `once`. */
  async function replaySpool(once = false): Promise<void> {
    let failures = 0;
    while (!stopReplay.signal.aborted) {
      const batch = await spool.oldest();
      if (!batch) return;
      try {
        await deps.insert(batch.rows, batch.token, opts.insertTimeoutMs);
        await spool.remove(batch.file);
        setSpoolGauges();
        failures = 0;
      } catch (err) {
        failures += 1;
        metrics.insertFailures.inc({ table, reason: `replay_${failureReason(err)}` });
        const delay = backoffMs(failures, opts.retryBaseMs, opts.retryMaxMs);
        log.warn({ err, table, file: batch.file, retryInMs: delay }, 'spool replay failed');
        if (once) return;
        await sleep(delay, undefined, { signal: stopReplay.signal }).catch(() => undefined);
      }
    }
  }

  return {
    name: `batch-writer:${table}`,

    async start() {
      setSpoolGauges();
      if (spool.totals().files === 0) return;
      // Replayed before ingest opens, so the de-duplication warm-up sees these rows.
      log.info({ table, ...spool.totals() }, 'replaying spooled batches');
      await replaySpool(true);
      if (spool.totals().files > 0) startReplay();
    },

    async stop() {
      flush();
      while (open || newest) await (open ?? newest)!.done.catch(() => undefined);
      stopReplay.abort();
      await replay;
    },

    enqueue(rows) {
      if (rows.length === 0) return;
      open ??= newBatch<Row>();
      for (const row of rows) open.rows.push(row);
      buffered += rows.length;
      metrics.rowsBuffered.set(buffered);
      if (open.rows.length >= opts.maxBatchRows) flush();
      else timer ??= setTimeout(flush, opts.flushIntervalMs);
    },

    durable() {
      // Batches settle in order, so the newest one settling means every older one has.
      return (open ?? newest)?.done ?? Promise.resolve();
    },

    pressure() {
      if (buffered >= opts.maxBufferedRows) return Math.min(5000, Math.max(100, lastInsertMs * 2));
      if (spool.totals().bytes >= opts.maxSpoolBytes) return 5000;
      return undefined;
    },
  };
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

function failureReason(err: unknown): string {
  const text =
    String((err as { name?: string; message?: string })?.name ?? '') +
    String((err as Error)?.message ?? '');
  if (/timeout|abort/i.test(text)) return 'timeout';
  if (/ECONNREFUSED|ECONNRESET|socket|network/i.test(text)) return 'unreachable';
  return 'error';
}
