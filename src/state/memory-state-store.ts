import type { ListOptions, StateStore, StateWrite } from './state-store.js';

/** StateStore in a sorted in-memory map: for tests and for running without a data folder. */
export function createMemoryStateStore(): StateStore {
  const data = new Map<string, unknown>();
  const clone = <T>(value: T): T => structuredClone(value);
  return {
    get: async <T>(key: string) => (data.has(key) ? clone(data.get(key) as T) : undefined),
    async put(key, value) {
      data.set(key, clone(value));
    },
    async putIfAbsent(key, value) {
      if (data.has(key)) return false;
      data.set(key, clone(value));
      return true;
    },
    async del(key) {
      data.delete(key);
    },
    async update<T>(key: string, fn: (current: T | undefined) => T | undefined) {
      const next = fn(data.has(key) ? clone(data.get(key) as T) : undefined);
      if (next === undefined) data.delete(key);
      else data.set(key, clone(next));
      return next;
    },
    async batch(writes: readonly StateWrite[]) {
      // Copied before the first write: a value that cannot be copied fails the whole batch.
      const values = writes.map((w) => (w.op === 'del' ? undefined : clone(w.value)));
      return writes.map((write, i) => {
        if (write.op === 'del') {
          data.delete(write.key);
          return true;
        }
        if (write.op === 'putIfAbsent' && data.has(write.key)) return false;
        data.set(write.key, values[i]);
        return true;
      });
    },
    async list<T>(prefix: string, options: ListOptions = {}) {
      let keys = [...data.keys()].filter((key) => key.startsWith(prefix)).sort();
      if (options.before !== undefined) keys = keys.filter((key) => key < options.before!);
      if (options.reverse) keys.reverse();
      if (options.after !== undefined)
        keys = keys.filter((key) =>
          options.reverse ? key < options.after! : key > options.after!,
        );
      if (options.limit !== undefined) keys = keys.slice(0, options.limit);
      return keys.map((key) => [key, clone(data.get(key) as T)] as [string, T]);
    },
    async close() {
      data.clear();
    },
  };
}
