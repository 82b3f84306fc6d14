import type { ProjectConfig, Scope } from '../config/schema.js';
import { hashKey, keyIdOf } from './api-key.js';

export { keyIdOf } from './api-key.js';

/** Who is calling: the project a credential belongs to and what it may do. */
export interface Principal {
  readonly projectId: string;
  /** Names the credential without revealing it (rate limits, logs): never the key itself. */
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
}

/**
 * Turns a project key into a principal: the configured keys, and those made through
 * `POST /v1/keys` (see key-store.ts). Synchronous: every request asks, from memory.
 */
export interface Authenticator {
  authenticate(credential: string | undefined): Principal | undefined;
}

/** A configured key as the registry holds it: its hash, never the key. */
export interface ConfiguredKey {
  readonly hash: string;
  readonly name: string | undefined;
  readonly principal: Principal;
}

/**
 * The project keys from configuration, hashed at load, by hash. Throws when one key is given
 * twice: it could only speak for one of its projects.
 */
export function configuredKeys(
  projects: ReadonlyArray<Pick<ProjectConfig, 'id' | 'keys'>>,
): Map<string, ConfiguredKey> {
  const byHash = new Map<string, ConfiguredKey>();
  for (const project of projects) {
    for (const { key, scopes, name } of project.keys) {
      const hash = hashKey(key);
      if (byHash.has(hash)) throw new Error(`key of project ${project.id} is used twice`);
      const principal = { projectId: project.id, keyId: keyIdOf(key), scopes: new Set(scopes) };
      byHash.set(hash, { hash, name, principal });
    }
  }
  return byHash;
}

/**
 * An authenticator over the configured project keys alone (the key store adds the keys made
 * through the API to these).
 *
 * @example
 * const auth = createKeyRegistry([{ id: 'dev', keys: [{ key, scopes: ['ingest'] }] }]);
 * auth.authenticate(key)?.projectId; // 'dev'
 */
export function createKeyRegistry(
  projects: ReadonlyArray<Pick<ProjectConfig, 'id' | 'keys'>>,
): Authenticator {
  const byHash = configuredKeys(projects);
  return {
    authenticate: (credential) =>
      credential ? byHash.get(hashKey(credential))?.principal : undefined,
  };
}

/**
 * The scopes each scope grants besides itself. `admin` implies `read`: whoever may define
 * streams, rules and templates may read them back. `admin` implies `users:read` too: an admin
 * key can issue a token for any user (`POST /v1/users/:id/token`) and read with it, so
 * refusing it the user routes would protect nothing. `read` does not: a read key may sit in
 * a dashboard page, and user data needs `users:read` on purpose. Nothing implies `ingest`:
 * writing events (which feed streams, rules and notifications) is granted to a key on
 * purpose, so an admin tool's key cannot pour events into a project by mistake.
 */
const implied: Record<Scope, readonly Scope[]> = {
  ingest: [],
  read: [],
  'users:read': [],
  admin: ['read', 'users:read'],
};

/** Whether the principal may act in `scope`: the one scope rule every route and socket uses. */
export function can(principal: Principal, scope: Scope): boolean {
  for (const held of principal.scopes)
    if (held === scope || implied[held].includes(scope)) return true;
  return false;
}
