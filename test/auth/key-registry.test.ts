import { describe, expect, it } from 'vitest';
import { can, createKeyRegistry } from '../../src/auth/key-registry.js';
import type { Scope } from '../../src/config/schema.js';

const keyWith = (scopes: Scope[]) => `key-${scopes.join('-')}-0123456789abcdef`;
const combos: Scope[][] = [['ingest'], ['read'], ['admin'], ['ingest', 'read'], ['users:read']];
const auth = createKeyRegistry([
  {
    id: 'shop',
    keys: combos.map((scopes) => ({ key: keyWith(scopes), scopes })),
  },
]);
const principal = (scopes: Scope[]) => auth.authenticate(keyWith(scopes))!;

describe('scopes', () => {
  it('lets admin read too, but not ingest', () => {
    expect(can(principal(['admin']), 'admin')).toBe(true);
    expect(can(principal(['admin']), 'read')).toBe(true);
    expect(can(principal(['admin']), 'ingest')).toBe(false);
  });

  it('lets admin read user data; read does not, users:read does and nothing else', () => {
    expect(can(principal(['admin']), 'users:read')).toBe(true);
    expect(can(principal(['read']), 'users:read')).toBe(false);
    expect(can(principal(['users:read']), 'users:read')).toBe(true);
    expect(can(principal(['users:read']), 'read')).toBe(false);
    expect(can(principal(['users:read']), 'admin')).toBe(false);
  });

  it('gives read and ingest nothing beyond themselves', () => {
    expect(can(principal(['read']), 'read')).toBe(true);
    expect(can(principal(['read']), 'admin')).toBe(false);
    expect(can(principal(['read']), 'ingest')).toBe(false);
    expect(can(principal(['ingest']), 'read')).toBe(false);
    expect(can(principal(['ingest', 'read']), 'admin')).toBe(false);
  });
});

describe('key ids', () => {
  it('names each key apart, stably, without revealing it', () => {
    const ids = combos.map((scopes) => principal(scopes).keyId);
    expect(new Set(ids).size).toBe(combos.length);
    for (const [i, scopes] of combos.entries()) {
      expect(ids[i]).not.toContain(keyWith(scopes).slice(0, 8));
      expect(
        createKeyRegistry([{ id: 'x', keys: [{ key: keyWith(scopes), scopes }] }]).authenticate(
          keyWith(scopes),
        )!.keyId,
      ).toBe(ids[i]);
    }
  });
});
