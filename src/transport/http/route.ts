import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { can, type Authenticator, type Principal } from '../../auth/key-registry.js';
import type { Scope } from '../../config/schema.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createReply, readBody, readRequest, type Reply, type RequestInfo } from './reply.js';
import { takeRequest, type RateLimiters } from '../rate-limits.js';

export interface RouteContext {
  reply: Reply;
  principal: Principal;
  info: RequestInfo;
  /** The decoded `:name` path parameter ('' when the route has none). */
  name: string;
  /** The request body (PUT and POST), read from the start as uWS requires. */
  body: Promise<Buffer | undefined>;
}

export const maxJsonBodyBytes = 64 * 1024;

export interface RouteDeps {
  auth: Authenticator;
  metrics: Metrics;
  log: Logger;
  rateLimits: RateLimiters;
}

/**
 * Registers keyed JSON routes: the key's scope is checked, then one request is taken from the
 * key's request budget (429 RATE_LIMITED when spent), the body is attached before the
 * handler returns (uWS gives it to no later listener), and any error a handler throws or
 * rejects with becomes its catalogue answer. Never lets one request crash the process.
 *
 * @example
 * const route = createRoutes(app, { auth, metrics, log, rateLimits });
 * route('get', '/v1/streams/:name', 'read', ({ reply, name }) => reply.json(200, { name }));
 */
export function createRoutes(app: TemplatedApp, deps: RouteDeps) {
  const { auth, metrics, log } = deps;
  return (
    method: 'get' | 'put' | 'post' | 'del',
    pattern: string,
    scope: Scope,
    handle: (context: RouteContext) => void | Promise<void>,
  ): void => {
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const info = readRequest(req);
      const rawName = req.getParameter(0) ?? '';
      const reply = createReply(res, log, (status) =>
        metrics.httpRequests.inc({ route: pattern, status }),
      );
      const body =
        method === 'put' || method === 'post'
          ? readBody(res, maxJsonBodyBytes)
          : Promise.resolve(undefined);
      const principal = auth.authenticate(info.credential);
      if (!principal) return reply.error(new BacklineError('UNAUTHORIZED'));
      if (!can(principal, scope)) return reply.error(new BacklineError('FORBIDDEN'));
      takeRequest(deps, 'http', { limit: 'key', id: principal.keyId })
        .then(() => handle({ reply, principal, info, name: decodeParameter(rawName), body }))
        .catch((err: unknown) => reply.error(err));
    });
  };
}

function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BacklineError('BAD_QUERY', 'the path is not valid URL encoding');
  }
}

/** A JSON body of at most `maxJsonBodyBytes`, parsed. */
export async function jsonBody(body: Promise<Buffer | undefined>): Promise<unknown> {
  const bytes = await body;
  if (!bytes)
    throw new BacklineError('FRAME_TOO_LARGE', `a definition is at most ${maxJsonBodyBytes} bytes`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
  }
}
