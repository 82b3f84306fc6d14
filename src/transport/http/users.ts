import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { UserTokens } from '../../auth/user-token.js';
import { BacklineError } from '../../errors.js';
import type { DecisionLog } from '../../notify/decision-log.js';
import type { Inbox } from '../../notify/inbox.js';
import { preferencesSchema, type PreferenceStore } from '../../notify/preferences.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createReply, readBody, readRequest, type Reply, type RequestInfo } from './reply.js';
import {
  markActions,
  markAndAnnounce,
  optionalId,
  parseIds,
  type MarkAction,
} from '../../notify/inbox-marks.js';
import {
  authorizeUserRoute,
  intParam,
  parseJsonBody,
  parseUserId,
  type UserAccess,
} from '../user/user-access.js';
import type { UserHub } from '../user/user-hub.js';
import { takeRequest, type RateLimiters } from '../rate-limits.js';

const hour = 3600_000;
export const defaultTokenTtlMs = 24 * hour;
export const maxTokenTtlMs = 30 * 24 * hour;

export interface HttpUsersDeps {
  auth: Authenticator;
  tokens: UserTokens;
  hub: UserHub;
  inbox: Inbox;
  preferences: PreferenceStore;
  decisions: Pick<DecisionLog, 'query'>;
  metrics: Metrics;
  log: Logger;
  rateLimits: RateLimiters;
}

interface UserRequest {
  reply: Reply;
  info: RequestInfo;
  project: string;
  userId: string;
  body: Promise<Buffer | undefined>;
}

/**
 * The user-facing API: `POST /v1/users/:id/token` (admin), `GET`/`PUT
 * /v1/users/:id/preferences` (admin key or the user's token), `GET /v1/users/:id/inbox`
 * (read key or the user's token), `POST /v1/users/:id/inbox/{read,seen,archive}` (admin key
 * or the user's token; the user's live sockets are told) and `GET /v1/users/:id/decisions`
 * (read key: why a notification was or was not sent). Each call takes one request from the
 * key's or the user's budget.
 */
export function registerHttpUsers(app: TemplatedApp, deps: HttpUsersDeps): void {
  const { tokens, hub, inbox, preferences, decisions, metrics, log } = deps;

  const route = (
    method: 'get' | 'put' | 'post',
    pattern: string,
    access: UserAccess,
    handle: (request: UserRequest) => Promise<void>,
  ) => {
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const info = readRequest(req);
      const rawId = req.getParameter(0) ?? '';
      const reply = createReply(res, log, (status) =>
        metrics.httpRequests.inc({ route: pattern, status }),
      );
      // uWS hands the body only to an onData attached before the handler returns.
      const body = method === 'get' ? Promise.resolve(undefined) : readBody(res, 64 * 1024);
      try {
        const userId = parseUserId(rawId);
        const { project, caller } = authorizeUserRoute(deps, info, access, userId);
        takeRequest(deps, 'http', caller)
          .then(() => handle({ reply, info, project, userId, body }))
          .catch((err: unknown) => reply.error(err, info.wantsMsgpack));
      } catch (err) {
        reply.error(err, info.wantsMsgpack);
      }
    });
  };

  route('post', '/v1/users/:id/token', 'admin', async ({ reply, info, project, userId, body }) => {
    const { ttlMs = defaultTokenTtlMs } = parseJsonBody(await body);
    const valid = Number.isInteger(ttlMs) && (ttlMs as number) >= 1000;
    if (!valid || (ttlMs as number) > maxTokenTtlMs)
      throw new BacklineError('BAD_FRAME', `\`ttlMs\` is 1000 to ${maxTokenTtlMs} (ms)`);
    reply.json(200, tokens.issue(project, userId, ttlMs as number), info.wantsMsgpack);
  });

  route('get', '/v1/users/:id/preferences', 'self-or-admin', async (request) => {
    const { reply, info, project, userId } = request;
    reply.json(200, await preferences.get(project, userId), info.wantsMsgpack);
  });

  route('put', '/v1/users/:id/preferences', 'self-or-admin', async (request) => {
    const { reply, info, project, userId } = request;
    const parsed = preferencesSchema.safeParse(parseJsonBody(await request.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.') || '(body)';
      throw new BacklineError('BAD_PREFERENCES', `${field}: ${issue.message}`);
    }
    reply.json(200, await preferences.put(project, userId, parsed.data), info.wantsMsgpack);
  });

  route('get', '/v1/users/:id/inbox', 'self-or-read', async ({ reply, info, project, userId }) => {
    const { query } = info;
    const limit = intParam(query, 'limit', 1, 500) ?? 50;
    const before = optionalId(query.get('before') || undefined, 'before');
    const archived = query.get('archived') === 'true' || query.get('archived') === '1';
    const page = await inbox.list(project, userId, { limit, before, archived });
    const counts = await inbox.counts(project, userId);
    reply.json(200, { items: page.items, next: page.next ?? null, counts }, info.wantsMsgpack);
  });

  for (const action of Object.keys(markActions) as MarkAction[]) {
    route('post', `/v1/users/:id/inbox/${action}`, 'self-or-admin', async (request) => {
      const { reply, info, project, userId } = request;
      const ids = parseIds(parseJsonBody(await request.body).ids);
      const result = await markAndAnnounce({ inbox, hub }, project, userId, action, ids);
      reply.json(200, result, info.wantsMsgpack);
    });
  }

  route('get', '/v1/users/:id/decisions', 'read', async ({ reply, info, project, userId }) => {
    const { query } = info;
    const text = (name: string) => query.get(name) || undefined;
    const rows = await decisions.query(project, userId, {
      notification: text('notification'),
      rule: text('rule'),
      dedupKey: text('dedupKey'),
      category: text('category'),
      limit: intParam(query, 'limit', 1, 1000),
    });
    reply.json(200, { userId, decisions: rows }, info.wantsMsgpack);
  });
}
