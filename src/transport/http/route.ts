import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { can, type Authenticator, type Principal } from '../../auth/key-registry.js';
import type { Scope } from '../../config/schema.js';
import { BacklineError } from '../../errors.js';
import { requestIdOf, type AuditNote, type AuditTrail } from '../../privacy/audit-trail.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Cors } from '../cors.js';
import type { Credentials } from '../credentials.js';
import { takeRequest, type Caller, type RateLimiters } from '../rate-limits.js';
import { recordRoute } from '../route-table.js';
import { createReply, readBody, readRequest, type Reply, type RequestInfo } from './reply.js';

export const maxJsonBodyBytes = 64 * 1024;

export interface RouteDeps {
  auth: Authenticator;
  metrics: Metrics;
  log: Logger;
  rateLimits: RateLimiters;
  /** Pages of other origins allowed to call the routes (`cors.origins`). */
  cors?: Cors;
  /** Where admin writes (and requests whose handler asks) are audited; the server always sets it. */
  audit?: Pick<AuditTrail, 'record'>;
}

/** What an access tells the audit of a caller it let in. */
export interface AuditSubject {
  /** The project the request acts in. */
  project: string;
  /** `key:<key id>` or `user:<pseudonym>`: never a key, never a user id. */
  actor: string;
  /** What the request acts on when not its `:param` (a user's pseudonym). */
  target?: string;
}

/**
 * Who a route lets in, given the request's credentials, its raw `:param` and the route's
 * access level: what the handler learns of the caller, and whose budget the call takes.
 * Throws or rejects to refuse (UNAUTHORIZED, FORBIDDEN, BAD_TOKEN…). Asynchronous when it
 * verifies a user token (a JWKS may be fetched); it must read `credentials` only.
 */
export type Access<L, C> = (
  credentials: Credentials,
  param: string,
  level: L,
) => Granted<C> | Promise<Granted<C>>;

/** What an access grants: the handler's context, whose budget the call takes, and who it is. */
export type Granted<C> = C & { caller: Caller; subject: AuditSubject };

/** The default: a project key holding the route's scope, or one of its scopes. */
export type KeyScope = Scope | readonly Scope[];

export const keyAccess =
  (auth: Authenticator): Access<KeyScope, { principal: Principal }> =>
  (credentials, _param, level) => {
    const principal = auth.authenticate(credentials.credential);
    if (!principal) throw new BacklineError('UNAUTHORIZED');
    const scopes: readonly Scope[] = typeof level === 'string' ? [level] : level;
    if (!scopes.some((scope) => can(principal, scope))) throw new BacklineError('FORBIDDEN');
    const subject = { project: principal.projectId, actor: `key:${principal.keyId}` };
    return { principal, caller: { limit: 'key', id: principal.keyId }, subject };
  };

/** How a group of routes lets callers in and answers them. */
export interface RouteStyle<L, C> {
  access: Access<L, C>;
  /** Answers errors in MessagePack when the request accepts it, as its handlers answer. */
  msgpack?: boolean;
  /** Bodies past this are `undefined` to the handler (bytes; default `maxJsonBodyBytes`). */
  maxBodyBytes?: number;
  /** false: the handler takes from its own budget (events), not one request of the caller's. */
  takesRequest?: boolean;
  /** Sees every error answered (the events route counts them as frame errors). */
  failed?(err: unknown): void;
  /** Requests whose answer is still owed, added and removed here; shutdown waits for them. */
  pending?: Set<Promise<unknown>>;
}

export type RouteContext<C> = C & {
  reply: Reply;
  info: RequestInfo;
  /** The decoded `:name` path parameter ('' when the route has none). */
  name: string;
  /** The request body (not for GET), read from the start as uWS requires. */
  body: Promise<Buffer | undefined>;
  /** `performance.now()` when the request came. */
  arrivedAt: number;
  /** What the audit row of this request says: the target and the definition before and after. */
  audit: AuditNote;
};

type Method = 'get' | 'put' | 'post' | 'del';

/** A route level that names the admin scope (`admin`, `self-or-admin`, `['admin', …]`). */
export const namesAdmin = (level: unknown): boolean =>
  (Array.isArray(level) ? level : [level]).some(
    (name) => typeof name === 'string' && name.includes('admin'),
  );
export type Route<L, C> = (
  method: Method,
  pattern: string,
  level: L,
  handle: (context: RouteContext<C>) => void | Promise<void>,
) => void;

/**
 * THE way an HTTP route is registered: the caller is let in (a project key with the route's
 * scope by default), then one request is taken from the caller's budget (429 RATE_LIMITED
 * when spent), the body is attached before the handler returns (uWS gives it to no later
 * listener; a body refused at once is drained unread, one refused by an asynchronous access
 * is read up to `maxBodyBytes` and dropped), and any error a handler throws or rejects with
 * becomes its catalogue answer. Never lets one request crash the process. Every route is
 * recorded in the app's route table (route-table.ts) with its access level. Every admin
 * write (a non-GET route whose level names `admin`, called with an admin key) is audited
 * once answered, with what the handler put in `audit`; so is any request whose handler sets
 * `audit.always`. Every answer carries an `X-Request-Id`.
 *
 * @example
 * const route = createRoutes(app, { auth, metrics, log, rateLimits });
 * route('get', '/v1/streams/:name', 'read', ({ reply, name }) => reply.json(200, { name }));
 */
export function createRoutes<L = KeyScope, C = { principal: Principal }>(
  app: TemplatedApp,
  deps: RouteDeps,
  // Without a style, L and C keep their defaults: the key access below.
  style: RouteStyle<L, C> = { access: keyAccess(deps.auth) as unknown as Access<L, C> },
): Route<L, C> {
  const { metrics, log } = deps;
  const { access, msgpack = false, takesRequest = true, failed, pending } = style;
  const maxBodyBytes = style.maxBodyBytes ?? maxJsonBodyBytes;
  return (method, pattern, level, handle) => {
    const adminWrite = method !== 'get' && namesAdmin(level);
    recordRoute(app, method, pattern, level, adminWrite);
    const route = { method, pattern, adminWrite };
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const arrivedAt = performance.now();
      const info = readRequest(req, res);
      const param = req.getParameter(0) ?? '';
      let status = 0;
      const reply = createReply(
        res,
        log,
        (answered) => {
          status = answered;
          metrics.httpRequests.inc({ route: pattern, status: answered });
        },
        deps.cors?.headers(req.getHeader('origin'), req.getHeader('host')),
      );
      const requestId = requestIdOf(info.requestId);
      reply.header('x-request-id', requestId);
      const fail = (err: unknown) => {
        failed?.(err);
        reply.error(err, msgpack && info.wantsMsgpack);
      };
      let granted: Granted<C> | Promise<Granted<C>>;
      try {
        granted = access(info, param, level);
      } catch (err) {
        if (method !== 'get') res.onData(() => undefined);
        return fail(err);
      }
      const body = method === 'get' ? Promise.resolve(undefined) : readBody(res, maxBodyBytes);
      const audit: AuditNote = {};
      let admitted: Granted<C> | undefined;
      const run = async (caller: Granted<C>) => {
        admitted = caller;
        if (takesRequest) await takeRequest(deps, 'http', caller.caller);
        const context = { ...caller, reply, info, name: decodeParameter(param), body };
        return handle({ ...context, arrivedAt, audit });
      };
      // Audited once answered, refusals after admission (429, a handler's error) included.
      const answered = () =>
        admitted &&
        recordAudit(deps.audit, route, { ...admitted, param, status, requestId, note: audit });
      const work: Promise<unknown> = Promise.resolve(granted)
        .then(run)
        .catch(fail)
        .finally(answered);
      if (!pending) return;
      const tracked = work.finally(() => pending.delete(tracked));
      pending.add(tracked);
    });
  };
}

/**
 * Audits an answered request when it was an admin write by an admin key, or its handler
 * asked for it. The target is what the access or the handler named, else the `:param`.
 */
function recordAudit(
  audit: RouteDeps['audit'],
  route: { method: Method; pattern: string; adminWrite: boolean },
  answered: { subject: AuditSubject; caller: Caller; param: string; status: number } & {
    requestId: string;
    note: AuditNote;
  },
): void {
  const { subject, caller, param, status, requestId, note } = answered;
  if (!note.always && !(route.adminWrite && caller.limit === 'key')) return;
  const action = `${route.method === 'del' ? 'DELETE' : route.method.toUpperCase()} ${route.pattern}`;
  let target = subject.target ?? param;
  try {
    target = subject.target ?? decodeURIComponent(param);
  } catch {
    // A `:param` that is not valid URL encoding is named as it came.
  }
  audit?.record({ ...subject, action, target, status, requestId, note });
}

function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BacklineError('BAD_QUERY', 'the path is not valid URL encoding');
  }
}

/**
 * The routes no project key guards, kept to this small variant with the same reply helper
 * and request count: the ops probes and the 404 (`/healthz`, `/readyz`, `/metrics`, `/*`),
 * the dashboard's files, the VAPID public key, and provider webhooks (signed, not keyed).
 * `handle` reads `req` synchronously (uWS frees it when the handler returns); what it throws
 * or rejects with is answered from the catalogue. `label` names the route in the count.
 * With `deps.cors`, answers carry CORS headers (the VAPID key, which a page fetches).
 */
export function createOpenRoutes(
  app: TemplatedApp,
  deps: { metrics: Metrics; log: Logger; cors?: Cors },
) {
  const { metrics, log } = deps;
  return (
    method: 'get' | 'post' | 'options' | 'any',
    pattern: string,
    handle: (reply: Reply, req: HttpRequest, res: HttpResponse) => void | Promise<void>,
    label = pattern,
  ): void => {
    recordRoute(app, method, pattern, 'open');
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const reply = createReply(
        res,
        log,
        (status) => metrics.httpRequests.inc({ route: label, status }),
        deps.cors?.headers(req.getHeader('origin'), req.getHeader('host')),
      );
      try {
        handle(reply, req, res)?.catch((err: unknown) => reply.error(err));
      } catch (err) {
        reply.error(err);
      }
    });
  };
}
