import type { TemplatedApp } from 'uWebSockets.js';
import type { UserTokens } from '../../auth/user-token.js';
import type { Bus } from '../../cluster/bus.js';
import { BacklineError } from '../../errors.js';
import type { DecisionLog } from '../../notify/decision-log.js';
import type { Inbox } from '../../notify/inbox.js';
import { preferencesSchema, type PreferenceStore } from '../../notify/preferences.js';
import {
  markActions,
  markAndAnnounce,
  optionalId,
  parseIds,
  type MarkAction,
} from '../../notify/inbox-marks.js';
import type { UserCheck } from '../identity.js';
import { userAccess } from '../user/user-access.js';
import type { UserHub } from '../user/user-hub.js';
import { jsonMap } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

const hour = 3600_000;
export const defaultTokenTtlMs = 24 * hour;
export const maxTokenTtlMs = 30 * 24 * hour;

export interface HttpUsersDeps extends RouteDeps {
  /** Issues backline user tokens (`POST /v1/users/:id/token`). */
  tokens: Pick<UserTokens, 'issue'>;
  /** Verifies the user's own token: backline's or a JWT of the project's identity provider. */
  users: UserCheck;
  hub: UserHub;
  /** Marks and counts go out to the user's sockets on every node. */
  bus: Bus;
  inbox: Inbox;
  preferences: PreferenceStore;
  decisions: Pick<DecisionLog, 'query'>;
}

/**
 * The user-facing API: `POST /v1/users/:id/token` (admin), `GET /v1/users/:id/preferences`
 * (`users:read` key or the user's token), `PUT` of it (admin key or the user's token), `GET
 * /v1/users/:id/inbox` (`users:read` key or the user's token), `POST
 * /v1/users/:id/inbox/{read,seen,archive}` (admin key or the user's token; the user's live
 * sockets are told) and `GET /v1/users/:id/decisions` (`users:read` key or the user's token:
 * why a notification was or was not sent). `admin` implies `users:read`; `read` does not.
 * The user's token is a backline user token or a JWT. Each call takes one request from the
 * key's or the user's budget.
 */
export function registerHttpUsers(app: TemplatedApp, deps: HttpUsersDeps): void {
  const { tokens, hub, bus, inbox, preferences, decisions } = deps;
  const route = createRoutes(app, deps, { access: userAccess(deps), msgpack: true });

  route('post', '/v1/users/:id/token', 'admin', async ({ reply, info, project, userId, body }) => {
    const { ttlMs = defaultTokenTtlMs } = await jsonMap(body);
    const valid = Number.isInteger(ttlMs) && (ttlMs as number) >= 1000;
    if (!valid || (ttlMs as number) > maxTokenTtlMs)
      throw new BacklineError('BAD_FRAME', `\`ttlMs\` is 1000 to ${maxTokenTtlMs} (ms)`);
    reply.json(200, tokens.issue(project, userId, ttlMs as number), info.wantsMsgpack);
  });

  route('get', '/v1/users/:id/preferences', 'self-or-users-read', async (request) => {
    const { reply, info, project, userId } = request;
    reply.json(200, await preferences.get(project, userId), info.wantsMsgpack);
  });

  route('put', '/v1/users/:id/preferences', 'self-or-admin', async (request) => {
    const { reply, info, project, userId, audit } = request;
    const parsed = preferencesSchema.safeParse(await jsonMap(request.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.') || '(body)';
      throw new BacklineError('BAD_PREFERENCES', `${field}: ${issue.message}`);
    }
    audit.before = await preferences.get(project, userId);
    audit.after = await preferences.put(project, userId, parsed.data);
    reply.json(200, audit.after, info.wantsMsgpack);
  });

  route(
    'get',
    '/v1/users/:id/inbox',
    'self-or-users-read',
    async ({ reply, info, project, userId }) => {
      const { query } = info;
      const limit = intParam(query, 'limit', 1, 500) ?? 50;
      const before = optionalId(query.get('before') || undefined, 'before');
      const archived = query.get('archived') === 'true' || query.get('archived') === '1';
      const page = await inbox.list(project, userId, { limit, before, archived });
      const counts = await inbox.counts(project, userId);
      reply.json(200, { items: page.items, next: page.next ?? null, counts }, info.wantsMsgpack);
    },
  );

  for (const action of Object.keys(markActions) as MarkAction[]) {
    route('post', `/v1/users/:id/inbox/${action}`, 'self-or-admin', async (request) => {
      const { reply, info, project, userId } = request;
      const ids = parseIds((await jsonMap(request.body)).ids);
      const result = await markAndAnnounce({ inbox, bus, hub }, project, userId, action, ids);
      reply.json(200, result, info.wantsMsgpack);
    });
  }

  route(
    'get',
    '/v1/users/:id/decisions',
    'self-or-users-read',
    async ({ reply, info, project, userId }) => {
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
    },
  );
}

/** An optional integer query parameter within [min, max]. */
function intParam(query: URLSearchParams, name: string, min: number, max: number) {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new BacklineError('BAD_QUERY', `\`${name}\` must be an integer from ${min} to ${max}`);
  return value;
}
