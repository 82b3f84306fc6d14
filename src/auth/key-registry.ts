import { createHash } from 'node:crypto';
import type { ProjectConfig, Scope } from '../config/schema.js';

/** Who is calling: the project a credential belongs to and what it may do. */
export interface Principal {
  readonly projectId: string;
  /** Names the credential without revealing it (rate limits, logs): never the key itself. */
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
}

/**
 * Turns a credential into a principal. Project keys today; the security issue adds JWT
 * behind the same interface.
 */
export interface Authenticator {
  authenticate(credential: string | undefined): Principal | undefined;
}

/** A key's id: stable across restarts and nodes (a shared rate limit finds it), not secret. */
export const keyIdOf = (key: string): string =>
  createHash('sha256').update(key).digest('base64url').slice(0, 16);

/**
 * An authenticator over the project keys from configuration.
 *
 * @example
 * const auth = createKeyRegistry([{ id: 'dev', keys: [{ key, scopes: ['ingest'] }] }]);
 * auth.authenticate(key)?.projectId; // 'dev'
 */
export function createKeyRegistry(projects: readonly ProjectConfig[]): Authenticator {
  const byKey = new Map<string, Principal>();
  for (const project of projects) {
    for (const { key, scopes } of project.keys) {
      if (byKey.has(key)) throw new Error(`key of project ${project.id} is used twice`);
      byKey.set(key, { projectId: project.id, keyId: keyIdOf(key), scopes: new Set(scopes) });
    }
  }
  return {
    authenticate: (credential) => (credential ? byKey.get(credential) : undefined),
  };
}

/**
 * The scopes each scope grants besides itself. `admin` implies `read`: whoever may define
 * streams, rules and templates may read them back. Nothing implies `ingest`: writing events
 * (which feed streams, rules and notifications) is granted to a key on purpose, so an admin
 * tool's key cannot pour events into a project by mistake.
 */
const implied: Record<Scope, readonly Scope[]> = { ingest: [], read: [], admin: ['read'] };

/** Whether the principal may act in `scope`: the one scope rule every route and socket uses. */
export function can(principal: Principal, scope: Scope): boolean {
  for (const held of principal.scopes)
    if (held === scope || implied[held].includes(scope)) return true;
  return false;
}
