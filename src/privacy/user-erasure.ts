import { setTimeout as sleep } from 'node:timers/promises';
import { BacklineError } from '../errors.js';
import { backoffMs } from '../lib/backoff.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StateStore } from '../state/state-store.js';
import { createEraseJournal } from './erase-journal.js';
import { collectIds, eraseSteps, type EraseStepDeps } from './erase-steps.js';
import { userPseudonym } from './pseudonym.js';

export const defaultErasureOptions = {
  flushTimeoutMs: 30_000, // longest wait for rows accepted before the erase to be durable
  retryBaseMs: 1000, // first retry of an erase that failed part way; doubles, with jitter
  retryMaxMs: 60_000, // cap of the retry delay
  stepPauseMs: 0, // pause after each step: only for tests that interrupt an erase
};

/** What one erase removed, per step (rows, spooled rows, state keys). */
export type EraseCounts = Record<string, number>;

interface Running {
  /** The attempt in progress: the erase's counts, or its failure. */
  current: Promise<EraseCounts>;
}

/**
 * GDPR erasure of one user of a project, everywhere backline keeps data (see erase-steps.ts).
 * Durable: the erase is journalled in the StateStore before its first step and each step is
 * marked done, so an erase cut short by a crash resumes at start (`start()`), and one that
 * failed (ClickHouse down) is retried with backoff until done. Two erases of one user share
 * the one running. Events of the user that arrive after the erase are kept as any others.
 *
 * @example
 * const erasure = createUserErasure({ state, data, userState, writers, rollupTables, metrics, log });
 * await erasure.erase('dev', 'u42'); // { spool: 0, events: 120, decisions: 8, windows: 0, state: 31 }
 */
export function createUserErasure(
  deps: Omit<EraseStepDeps, 'flushTimeoutMs'> & {
    state: StateStore;
    metrics: Metrics;
    log: Logger;
  },
  options: Partial<typeof defaultErasureOptions> = {},
): Service & { erase(project: string, userId: string): Promise<EraseCounts> } {
  const opts = { ...defaultErasureOptions, ...options };
  const { metrics, log } = deps;
  const journal = createEraseJournal(deps.state);
  const stepDeps = { ...deps, flushTimeoutMs: opts.flushTimeoutMs };
  const steps = eraseSteps(stepDeps);
  const running = new Map<string, Running>();
  const loops = new Set<Promise<void>>();
  const stopping = new AbortController();

  /** One pass over the steps not done yet, from the journal as it stands. */
  async function attempt(project: string, userId: string): Promise<EraseCounts> {
    let record = await journal.begin(project, userId);
    const user = () => ({ ...record, anonymousIds: record.anonymousIds ?? [] });
    const about = { project: record.project, user: userPseudonym(record.project, record.userId) };
    if (!record.anonymousIds)
      record = await journal.update(
        record,
        await collectIds(stepDeps, record.project, record.userId),
      );
    for (const step of steps) {
      if (record.done.includes(step.name)) continue;
      if (stopping.signal.aborted) throw new Error('stopping');
      const removed = await step.run(user(), record);
      if (step.counted !== false) metrics.erasedRows.inc({ store: step.name }, removed);
      const counts =
        step.counted === false ? record.counts : { ...record.counts, [step.name]: removed };
      record = await journal.update(record, { done: [...record.done, step.name], counts });
      log.info({ ...about, step: step.name, removed }, 'erase step done');
      if (opts.stepPauseMs > 0) await sleep(opts.stepPauseMs);
    }
    await journal.finish(record);
    metrics.erasures.inc({ outcome: 'done' });
    log.info({ ...about, counts: record.counts }, 'user erased');
    return record.counts;
  }

  /** Runs the erase until it is done or the erasure stops, retrying failed attempts. */
  function launch(project: string, userId: string): Running {
    const key = journal.keyOf(project, userId);
    const about = { project, user: userPseudonym(project, userId) };
    const entry: Running = { current: attempt(project, userId) };
    running.set(key, entry);
    const loop = (async () => {
      for (let failures = 1; ; failures++) {
        try {
          await entry.current;
          return;
        } catch (err) {
          if (stopping.signal.aborted) return;
          metrics.erasures.inc({ outcome: 'failed' });
          log.warn({ err, ...about, failures }, 'erase failed part way; retrying');
          // Callers from now on wait for the next attempt, not the failed one.
          const delay = backoffMs(failures, opts.retryBaseMs, opts.retryMaxMs);
          entry.current = sleep(delay, undefined, { signal: stopping.signal }).then(() =>
            attempt(project, userId),
          );
        }
      }
    })().finally(() => {
      running.delete(key);
      loops.delete(loop);
    });
    loops.add(loop);
    return entry;
  }

  return {
    name: 'user-erasure',
    async start() {
      for (const record of await journal.pending()) {
        metrics.erasures.inc({ outcome: 'resumed' });
        launch(record.project, record.userId);
      }
    },
    async stop() {
      stopping.abort();
      await Promise.allSettled([...loops]);
    },
    async erase(project, userId) {
      const entry = running.get(journal.keyOf(project, userId)) ?? launch(project, userId);
      try {
        return await entry.current;
      } catch (err) {
        throw new BacklineError('ERASE_INCOMPLETE', undefined, {
          cause: err,
          retryAfterMs: opts.retryBaseMs,
        });
      }
    },
  };
}

export type UserErasure = ReturnType<typeof createUserErasure>;
