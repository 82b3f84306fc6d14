import type { TemplatedApp } from 'uWebSockets.js';
import type { KeyStore } from '../../auth/key-store.js';
import { BacklineError } from '../../errors.js';
import { jsonMap } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

export interface HttpKeysDeps extends RouteDeps {
  keys: Pick<KeyStore, 'create' | 'list' | 'revoke'>;
}

/**
 * The project's API keys, for an admin key: `POST /v1/keys` with `{name, scopes, expiresAt?}`
 * (201 with the key, shown this once: only its hash is kept), `GET /v1/keys` (every key of the
 * project, configured ones included, without secrets) and `DELETE /v1/keys/:id` (204: refused
 * from now on, on every node; 404 UNKNOWN_KEY). Rotation without downtime: make the new key,
 * move the clients to it, delete the old one.
 *
 * @example
 * registerHttpKeys(app, { keys: keyStore, auth: keyStore, metrics, log, rateLimits });
 */
export function registerHttpKeys(app: TemplatedApp, deps: HttpKeysDeps): void {
  const { keys } = deps;
  const route = createRoutes(app, deps);

  route('post', '/v1/keys', 'admin', async ({ reply, principal, body }) => {
    reply.json(201, await keys.create(principal.projectId, await jsonMap(body)));
  });

  route('get', '/v1/keys', 'admin', async ({ reply, principal }) => {
    reply.json(200, { keys: await keys.list(principal.projectId) });
  });

  route('del', '/v1/keys/:id', 'admin', async ({ reply, principal, name }) => {
    if (!(await keys.revoke(principal.projectId, name))) throw new BacklineError('UNKNOWN_KEY');
    reply.send(204, 'application/json', '');
  });
}
