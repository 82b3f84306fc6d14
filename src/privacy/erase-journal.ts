import { part, type StateStore } from '../state/state-store.js';

/**
 * One erase in progress, kept in the StateStore before its first step and until its last:
 * what it found (the anonymous ids and notification ids it follows, found once so that a
 * resumed erase deletes the same things) and the steps done. It names the user, so it is
 * deleted when the erase completes.
 */
export interface EraseRecord {
  project: string;
  userId: string;
  startedAt: number;
  anonymousIds?: string[];
  notificationIds?: string[];
  /** Names of the steps done, in order. */
  done: string[];
  /** What each step removed (rows, keys). */
  counts: Record<string, number>;
}

const prefix = 'erase/';

/**
 * The erase journal (`erase/<project>/<user>`): written before an erase starts, a step marked
 * done after it ran, read at start to resume every erase a crash cut short.
 *
 * @example
 * const journal = createEraseJournal(state);
 * const record = await journal.begin('dev', 'u42');
 * await journal.update(record, { done: [...record.done, 'events'] });
 */
export function createEraseJournal(state: StateStore, now = Date.now) {
  const keyOf = (project: string, userId: string) => `${prefix}${project}/${part(userId)}`;
  return {
    keyOf,
    /** The erase of this user: the one already journalled (resumed as it was), or a new one. */
    async begin(project: string, userId: string): Promise<EraseRecord> {
      const fresh: EraseRecord = { project, userId, startedAt: now(), done: [], counts: {} };
      return (await state.update<EraseRecord>(keyOf(project, userId), (old) => old ?? fresh))!;
    },
    async update(record: EraseRecord, change: Partial<EraseRecord>): Promise<EraseRecord> {
      const next = { ...record, ...change };
      await state.put(keyOf(record.project, record.userId), next);
      return next;
    },
    finish: (record: EraseRecord) => state.del(keyOf(record.project, record.userId)),
    /** Every erase not finished, oldest key first. */
    async pending(): Promise<EraseRecord[]> {
      return (await state.list<EraseRecord>(prefix)).map(([, record]) => record);
    },
  };
}

export type EraseJournal = ReturnType<typeof createEraseJournal>;
