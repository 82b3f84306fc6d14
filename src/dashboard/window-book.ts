import type { LiveWindow } from '../client/index.js';

/**
 * The latest state of each window seen on a subscription, keyed by `(start, key)`: messages
 * on one socket arrive in order, so the last one received is current, also when a reconnect's
 * snapshot repeats windows. Keeps the `maxWindows` most recent by start.
 *
 * @example
 * const book = createWindowBook(240);
 * client.subscribe('votes_per_show', undefined, (w) => book.upsert(w));
 * renderWindowTable(tbody, book.list());
 */
export function createWindowBook(maxWindows: number) {
  const windows = new Map<string, LiveWindow>();
  return {
    upsert(window: LiveWindow): void {
      windows.set(`${window.start}|${window.key}`, window);
      if (windows.size <= maxWindows) return;
      const oldest = [...windows.entries()].sort(([, a], [, b]) => a.start - b.start);
      for (const [id] of oldest.slice(0, windows.size - maxWindows)) windows.delete(id);
    },
    clear(): void {
      windows.clear();
    },
    /** Oldest first, then by key. */
    list(): LiveWindow[] {
      return [...windows.values()].sort((a, b) => a.start - b.start || a.key.localeCompare(b.key));
    },
  };
}

export type WindowBook = ReturnType<typeof createWindowBook>;
