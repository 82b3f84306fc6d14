import type { Principal } from '../../auth/key-registry.js';
import { BacklineError, type ErrorCode } from '../../errors.js';
import { jsonBody } from './json-body.js';
import type { KeyScope, Route } from './route.js';

/** A project's saved definitions of one kind, as its catalog keeps them. */
export interface DefinitionCatalog<T> {
  list(project: string): T[];
  get(project: string, name: string): T | undefined;
  /** Checks and saves `raw` (throws its kind's BAD_… code), answering what was saved. */
  define(project: string, name: string, raw: unknown): Promise<T>;
  /** false when there was none of that name. */
  remove(project: string, name: string): Promise<boolean>;
}

/**
 * The four routes of a kind of definition (`/v1/streams`, `/v1/rules`): `GET /v1/<kind>` and
 * `GET /v1/<kind>/:name` (read), `PUT /v1/<kind>/:name` (admin: define or replace) and
 * `DELETE /v1/<kind>/:name` (admin: 204, or 404 `unknown`); each write audited with the
 * definition before and after.
 *
 * @example
 * registerDefinitionRoutes(route, { kind: 'rules', unknown: 'UNKNOWN_RULE' }, ruleCatalog);
 */
export function registerDefinitionRoutes<T>(
  route: Route<KeyScope, { principal: Principal }>,
  names: { kind: string; unknown: ErrorCode },
  catalog: DefinitionCatalog<T>,
): void {
  const { kind, unknown } = names;
  route('get', `/v1/${kind}`, 'read', ({ reply, principal }) => {
    reply.json(200, { [kind]: catalog.list(principal.projectId) });
  });

  route('get', `/v1/${kind}/:name`, 'read', ({ reply, principal, name }) => {
    const spec = catalog.get(principal.projectId, name);
    if (!spec) throw new BacklineError(unknown);
    reply.json(200, spec);
  });

  route('put', `/v1/${kind}/:name`, 'admin', async ({ reply, principal, name, body, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    audit.after = await catalog.define(principal.projectId, name, await jsonBody(body));
    reply.json(200, audit.after);
  });

  route('del', `/v1/${kind}/:name`, 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    if (!(await catalog.remove(principal.projectId, name))) throw new BacklineError(unknown);
    reply.send(204, 'application/json', '');
  });
}
