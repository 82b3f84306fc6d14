import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { can, type Authenticator, type Principal } from '../auth/key-registry.js';
import type { Scope } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { RuleCatalog } from '../rules/rule-catalog.js';
import { createReply, readBody, readRequest, type Reply } from './http-reply.js';

/**
 * Notification rules over HTTP: `GET /v1/rules` and `GET /v1/rules/:name` (read),
 * `PUT /v1/rules/:name` (admin: define or replace; 400 BAD_RULE names the bad part) and
 * `DELETE /v1/rules/:name` (admin: 204, or 404 UNKNOWN_RULE).
 *
 * @example
 * registerHttpRules(app, { catalog: ruleCatalog, auth, metrics, log });
 */
export function registerHttpRules(
  app: TemplatedApp,
  deps: { catalog: RuleCatalog; auth: Authenticator; metrics: Metrics; log: Logger },
): void {
  const { catalog, auth, metrics, log } = deps;

  const route = (
    method: 'get' | 'put' | 'del',
    pattern: string,
    scope: Scope,
    handle: (
      reply: Reply,
      principal: Principal,
      name: string,
      body: Promise<Buffer | undefined>,
    ) => void | Promise<void>,
  ) => {
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const info = readRequest(req);
      const name = decodeURIComponent(req.getParameter(0) ?? '');
      const reply = createReply(res, log, (status) =>
        metrics.httpRequests.inc({ route: pattern, status }),
      );
      // uWS hands the body only to an onData attached before the handler returns.
      const body = method === 'put' ? readBody(res, 64 * 1024) : Promise.resolve(undefined);
      const principal = auth.authenticate(info.credential);
      if (!principal) return reply.error(new BacklineError('UNAUTHORIZED'));
      if (!can(principal, scope)) return reply.error(new BacklineError('FORBIDDEN'));
      Promise.resolve()
        .then(() => handle(reply, principal, name, body))
        .catch((err: unknown) => reply.error(err));
    });
  };

  route('get', '/v1/rules', 'read', (reply, principal) => {
    reply.json(200, { rules: catalog.list(principal.projectId) });
  });

  route('get', '/v1/rules/:name', 'read', (reply, principal, name) => {
    const spec = catalog.get(principal.projectId, name);
    if (!spec) throw new BacklineError('UNKNOWN_RULE');
    reply.json(200, spec);
  });

  route('put', '/v1/rules/:name', 'admin', async (reply, principal, name, pending) => {
    const body = await pending;
    if (!body) throw new BacklineError('FRAME_TOO_LARGE', 'a rule definition is at most 64 KiB');
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
    }
    reply.json(200, catalog.define(principal.projectId, name, raw));
  });

  route('del', '/v1/rules/:name', 'admin', async (reply, principal, name) => {
    if (!(await catalog.remove(principal.projectId, name))) throw new BacklineError('UNKNOWN_RULE');
    reply.send(204, 'application/json', '');
  });
}
