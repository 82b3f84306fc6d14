import { mkdirSync } from 'node:fs';
import { open } from 'lmdb';
import type { ListOptions, StateStore, StateWrite } from './state-store.js';

/**
 * StateStore on LMDB in the data folder: durable once a write's promise resolves (LMDB
 * commits and syncs in batches), memory-mapped reads, keys kept sorted for range listing.
 *
 * @example
 * const state = openLmdbStateStore('./data/state');
 * await state.put('pref/dev/u1', { email: false });
 */
export function openLmdbStateStore(path: string): StateStore {
  mkdirSync(path, { recursive: true });
  const db = open<unknown, string>({ path, compression: false });
  return {
    get: async <T>(key: string) => db.get(key) as T | undefined,
    async put(key, value) {
      await db.put(key, value);
    },
    putIfAbsent: (key, value) => db.ifNoExists(key, () => db.put(key, value)),
    async del(key) {
      await db.remove(key);
    },
    // LMDB has one write transaction at a time, across processes too: the read and the write
    // in it see no other writer. `fn` runs before any write, so a throw changes nothing.
    update: <T>(key: string, fn: (current: T | undefined) => T | undefined) =>
      db.transaction(() => {
        const next = fn(db.get(key) as T | undefined);
        if (next === undefined) db.removeSync(key);
        else db.putSync(key, next);
        return next;
      }),
    // A child transaction, so a write that throws (a key too long) rolls back the batch's
    // earlier writes instead of leaving them in the shared write transaction.
    batch: (writes: readonly StateWrite[]) =>
      db.childTransaction(() =>
        writes.map((write) => {
          if (write.op === 'putIfAbsent' && db.get(write.key) !== undefined) return false;
          if (write.op === 'del') db.removeSync(write.key);
          else db.putSync(write.key, write.value);
          return true;
        }),
      ),
    async list<T>(prefix: string, options: ListOptions = {}) {
      const end = `${prefix}\uffff`;
      const range = options.reverse
        ? { start: options.after ?? options.before ?? end, end: prefix, reverse: true }
        : { start: options.after ?? prefix, end: options.before ?? end };
      const out: Array<[string, T]> = [];
      for (const { key, value } of db.getRange(range)) {
        if (!key.startsWith(prefix)) continue;
        if (options.after !== undefined && key === options.after) continue;
        if (options.before !== undefined && key >= options.before) continue;
        out.push([key, value as T]);
        if (options.limit !== undefined && out.length >= options.limit) break;
      }
      return out;
    },
    async close() {
      await db.close();
    },
  };
}
