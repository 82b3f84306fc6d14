import type { ProjectConfig, Scope } from '../config/schema.js';

/** Who is calling: the project a credential belongs to and what it may do. */
export interface Principal {
  readonly projectId: string;
  readonly scopes: ReadonlySet<Scope>;
}

/**
 * Turns a credential into a principal. Project keys today; the security issue adds JWT
 * behind the same interface.
 */
export interface Authenticator {
  authenticate(credential: string | undefined): Principal | undefined;
}

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
      byKey.set(key, { projectId: project.id, scopes: new Set(scopes) });
    }
  }
  return {
    authenticate: (credential) => (credential ? byKey.get(credential) : undefined),
  };
}

export function can(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}
