import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { backoffMs } from '../lib/backoff.js';
import { createSerialQueue } from '../lib/serial-queue.js';
import type { Spool } from './spool.js';

export interface SpoolReplayDeps<Row> {
  table: string;
  insert(rows: readonly Row[], dedupToken: string, timeoutMs: number): Promise<void>;
  spool: Spool<Row>;
  metrics: Metrics;
  log: Logger;
}

export interface SpoolReplayOptions {
  insertTimeoutMs: number;
  retryBaseMs: number; // first retry delay; doubles per failure, with jitter
  retryMaxMs: number; // cap of the retry delay
}

/**
 * Inserts spooled batches into ClickHouse oldest first, each with the dedup token it was
 * spooled with, and removes a file once its insert returned. Failures are retried with capped
 * backoff until the spool is empty or `stop()`.
 *
 * @example
 * const replay = createSpoolReplay({ table, insert, spool, metrics, log }, opts);
 * await replay.once(); // at start, before ingest opens
 * replay.start(); // in the background after a batch was spooled
 */
export function createSpoolReplay<Row>(deps: SpoolReplayDeps<Row>, opts: SpoolReplayOptions) {
  const { table, spool, metrics, log } = deps;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;

  const setGauges = () => {
    const { rows, bytes } = spool.totals();
    metrics.rowsSpooled.set(rows);
    metrics.spoolBytes.set(bytes);
  };

  // One replay step or one rewrite at a time: a batch read before a rewrite must not be
  // inserted after it.
  const turns = createSerialQueue();
  const inTurn = <T>(task: () => Promise<T>) => turns.push('spool', task);

  type Step = 'empty' | 'replayed' | { err: unknown; file: string };

  /** Inserts the oldest batch and removes its file. */
  async function replayOldest(): Promise<Step> {
    const batch = await spool.oldest();
    if (!batch) return 'empty';
    try {
      await deps.insert(batch.rows, batch.token, opts.insertTimeoutMs);
      await spool.remove(batch.file);
      setGauges();
      return 'replayed';
    } catch (err) {
      return { err, file: batch.file };
    }
  }

  /** Inserts spooled batches oldest first; retries with backoff unless `once`. */
  async function run(once: boolean): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const step = await inTurn(replayOldest);
      if (step === 'empty') return;
      if (step === 'replayed') {
        failures = 0;
        continue;
      }
      failures += 1;
      metrics.insertFailures.inc({ table, reason: `replay_${failureReason(step.err)}` });
      const delay = backoffMs(failures, opts.retryBaseMs, opts.retryMaxMs);
      log.warn({ err: step.err, table, file: step.file, retryInMs: delay }, 'spool replay failed');
      if (once) return;
      await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  return {
    setGauges,
    /** Replays in the background until the spool is empty, unless already doing so. */
    start(): void {
      running ??= run(false).finally(() => {
        running = undefined;
      });
    },
    /** One pass that stops at the first failure. */
    once: () => run(true),
    /** Runs `task` (a rewrite of the spool) between replay steps, never during one. */
    exclusive: <T>(task: () => Promise<T>): Promise<T> => inTurn(task),
    async stop(): Promise<void> {
      stopping.abort();
      await running;
    },
  };
}

export function failureReason(err: unknown): string {
  const text =
    String((err as { name?: string; message?: string })?.name ?? '') +
    String((err as Error)?.message ?? '');
  if (/timeout|abort/i.test(text)) return 'timeout';
  if (/ECONNREFUSED|ECONNRESET|socket|network/i.test(text)) return 'unreachable';
  return 'error';
}
