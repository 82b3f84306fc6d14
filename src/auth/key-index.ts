import { hashKey } from './api-key.js';
import type { KeyRecord } from './key-records.js';
import type { Authenticator, ConfiguredKey, Principal } from './key-registry.js';

interface Entry {
  principal: Principal;
  /** Epoch ms from which the key is refused; null: never. */
  expiresAt: number | null;
}

export const recordId = (project: string, id: string): string => `${project}\u0000${id}`;

/**
 * The valid keys by hash, from the configured keys and the StateStore's records (made keys,
 * and tombstones of revoked configured ones): what every request is authenticated against.
 * Rebuilt whole on each change (changes are rare, lookups are not); a key that leaves it is
 * reported to `onRevoked`, whichever change removed it.
 *
 * @example
 * const index = createKeyIndex(configured, Date.now);
 * index.rebuild(records);
 * index.authenticate(key)?.projectId;
 */
export function createKeyIndex(configured: readonly ConfiguredKey[], now: () => number) {
  let byHash = new Map<string, Entry>();
  const listeners: Array<(projectId: string, keyId: string) => void> = [];

  const authenticator: Authenticator = {
    authenticate(credential) {
      if (!credential) return undefined;
      const entry = byHash.get(hashKey(credential));
      if (!entry || (entry.expiresAt !== null && now() >= entry.expiresAt)) return undefined;
      return entry.principal;
    },
  };

  function entries(records: ReadonlyMap<string, KeyRecord>): Map<string, Entry> {
    const next = new Map<string, Entry>();
    for (const { hash, principal: p } of configured)
      if (records.get(recordId(p.projectId, p.keyId))?.kind !== 'revoked')
        next.set(hash, { principal: p, expiresAt: null });
    for (const record of records.values()) {
      if (record.kind !== 'api') continue;
      const scopes = new Set(record.scopes);
      const principal = { projectId: record.project, keyId: record.id, scopes };
      next.set(record.hash, { principal, expiresAt: record.expiresAt });
    }
    return next;
  }

  return {
    ...authenticator,
    rebuild(records: ReadonlyMap<string, KeyRecord>): void {
      const before = byHash;
      byHash = entries(records);
      const kept = new Set(
        [...byHash.values()].map(({ principal: p }) => recordId(p.projectId, p.keyId)),
      );
      for (const { principal: p } of before.values())
        if (!kept.has(recordId(p.projectId, p.keyId)))
          for (const listener of listeners) listener(p.projectId, p.keyId);
    },
    /** Calls `listener` for each key that stops being valid here (revoked on any node). */
    onRevoked(listener: (projectId: string, keyId: string) => void): void {
      listeners.push(listener);
    },
  };
}
