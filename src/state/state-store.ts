/**
 * Small persistent key-value state for rules and notifications (follow sets, preferences,
 * inboxes, timers, caps, de-duplication keys). Single-node mode keeps it in LMDB under the
 * data folder; tests may use the in-memory one; cluster mode adds Redis behind the same
 * interface. Keys are `/`-separated paths; values are anything MessagePack can hold.
 */
export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  /** Sets `key` only if absent; true when it was set (de-duplication, fire-once timers). */
  putIfAbsent(key: string, value: unknown): Promise<boolean>;
  del(key: string): Promise<void>;
  /**
   * Atomic read-modify-write, across processes and nodes: `fn` gets the current value and
   * returns the new one (`undefined` deletes); resolves to the value written. `fn` may run
   * more than once (optimistic retries), so it must be pure; state it computes is safe to
   * keep from its last call, the one whose result was written.
   */
  update<T>(key: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  /**
   * Applies `writes` in order as one atomic transaction: every one of them, or none when it
   * fails. Resolves once they are committed, with one result per write: for `putIfAbsent`
   * whether it set the key (a later write in the same batch sees an earlier one), else true.
   * What the group commit (group-commit.ts) writes many callers' writes with.
   */
  batch(writes: readonly StateWrite[]): Promise<boolean[]>;
  /** Entries whose key starts with `prefix`, in key order (reversed on request), at most `limit`. */
  list<T>(prefix: string, options?: ListOptions): Promise<Array<[key: string, value: T]>>;
  close(): Promise<void>;
}

export type StateWrite =
  { op: 'put' | 'putIfAbsent'; key: string; value: unknown } | { op: 'del'; key: string };

export interface ListOptions {
  limit?: number;
  reverse?: boolean;
  /** Only keys strictly after this one (before it, when reversed): for paging. */
  after?: string;
  /** Only keys strictly before this one (in key order). */
  before?: string;
}

/** Fixed-width numbers so keys sort by time. */
export const sortableTime = (ms: number): string =>
  Math.max(0, Math.floor(ms)).toString().padStart(15, '0');

/** One path segment of a key: user ids and keys may hold `/`, which would blur prefixes. */
export const part = (value: string): string => encodeURIComponent(value);

/** Every entry under `prefix`, a page at a time, so a large prefix is never held whole. */
export async function* scan<T>(state: StateStore, prefix: string, pageSize = 1000) {
  let after: string | undefined;
  for (;;) {
    const page = await state.list<T>(prefix, { limit: pageSize, ...(after ? { after } : {}) });
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]![0];
  }
}
