import type { Sealer } from './sealer.js';
import type { ListOptions, StateStore } from './state-store.js';

/**
 * Records of one kind in the StateStore whose personal `fields` are sealed (sealer.ts): each
 * field sealed for its place (`<key>#<field>`), the rest left plain, so keys, ids and times
 * stay usable to the store and to operators. Reads open the fields and re-seal a record that
 * is plain while a key is set, or sealed with an older key of the ring (lazy rotation);
 * writes always seal with the current key. Works over any StateStore (LMDB, Redis, memory).
 *
 * @example
 * const records = createSealedRecords<Preferences>(state, sealer, ['email']);
 * await records.put('pref/dev/u1', { ...preferences, email: 'fan@example.com' });
 * (await records.get('pref/dev/u1'))?.email; // 'fan@example.com'; sealed in the store
 */
export function createSealedRecords<T extends object>(
  state: StateStore,
  sealer: Sealer,
  fields: ReadonlyArray<keyof T & string>,
) {
  type Stored = Record<string, unknown>;
  const context = (key: string, field: string) => `${key}#${field}`;

  const seal = (key: string, record: T): Stored => {
    const out: Stored = { ...(record as Stored) };
    for (const field of fields)
      if (out[field] !== undefined) out[field] = sealer.seal(out[field], context(key, field));
    return out;
  };
  const open = (key: string, stored: Stored): T => {
    const out: Stored = { ...stored };
    for (const field of fields)
      if (out[field] !== undefined) out[field] = sealer.open(out[field], context(key, field));
    return out as T;
  };
  const stale = (stored: Stored) => fields.some((field) => sealer.stale(stored[field]));

  /** Best effort: a failed write leaves the record readable as it is, and the next read retries. */
  async function reseal(key: string): Promise<void> {
    let changed = false;
    try {
      await state.update<Stored>(key, (current) => {
        changed = current !== undefined && stale(current);
        return current && changed ? seal(key, open(key, current)) : current;
      });
      if (changed) sealer.resealed();
    } catch {
      // Unreadable now (counted by the sealer) or the store failed: nothing was written.
    }
  }

  const read = async (key: string, stored: Stored): Promise<T> => {
    const record = open(key, stored);
    if (stale(stored)) await reseal(key);
    return record;
  };

  return {
    async get(key: string): Promise<T | undefined> {
      const stored = await state.get<Stored>(key);
      return stored === undefined ? undefined : read(key, stored);
    },
    async put(key: string, record: T): Promise<void> {
      await state.put(key, seal(key, record));
    },
    /** `state.update` on the opened record; throws SEALED_UNREADABLE (nothing written) if it does not open. */
    async update(key: string, fn: (current: T | undefined) => T | undefined) {
      // From fn's last call: the one whose result was written.
      let written: T | undefined;
      await state.update<Stored>(key, (current) => {
        written = fn(current === undefined ? undefined : open(key, current));
        return written === undefined ? undefined : seal(key, written);
      });
      return written;
    },
    async list(prefix: string, options?: ListOptions): Promise<Array<[key: string, value: T]>> {
      const rows = await state.list<Stored>(prefix, options);
      const out: Array<[string, T]> = [];
      for (const [key, stored] of rows) out.push([key, await read(key, stored)]);
      return out;
    },
  };
}

export type SealedRecords<T extends object> = ReturnType<typeof createSealedRecords<T>>;
