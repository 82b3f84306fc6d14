import { can } from '../../auth/key-registry.js';
import { BacklineError } from '../../errors.js';
import { userPseudonym } from '../../privacy/pseudonym.js';
import type { Credentials } from '../credentials.js';
import { identify, isServableUserId, type IdentityDeps } from '../identity.js';
import { userCaller, type Caller } from '../rate-limits.js';

/**
 * Who may call a `/v1/users/:id/…` route: `admin` is a project key with that scope;
 * `self-or-admin` also lets in the user's own token; `self-or-users-read` lets in the user's
 * own token or a key with `users:read` (which `admin` implies, `read` does not: a read key
 * may sit in a page, and must not open every user's data).
 */
export type UserAccess = 'admin' | 'self-or-admin' | 'self-or-users-read';

/** The project a user route acts in, whose request budget the call takes from, and who it is. */
export interface UserRouteCaller {
  project: string;
  caller: Caller;
  /** `key:<key id>` or `user:<pseudonym>`, as the audit names callers. */
  actor: string;
}

/**
 * Resolves the caller of a user route to the project it acts in, or throws. A user token (a
 * backline token or a JWT of the project's identity provider) opens only its own user's
 * routes (403 FORBIDDEN otherwise); a key acts in its own project only, where user ids are
 * the project's.
 */
export async function authorizeUserRoute(
  deps: IdentityDeps,
  info: Credentials,
  access: UserAccess,
  userId: string,
): Promise<UserRouteCaller> {
  const who = await identify(deps, info);
  if (who.kind === 'anonymous') throw new BacklineError('UNAUTHORIZED');
  if (who.kind === 'key') {
    const { principal } = who;
    const scope = access === 'self-or-users-read' ? 'users:read' : 'admin';
    if (!can(principal, scope)) throw new BacklineError('FORBIDDEN', `this key lacks ${scope}`);
    const caller: Caller = { limit: 'key', id: principal.keyId };
    return { project: principal.projectId, caller, actor: `key:${principal.keyId}` };
  }
  const { user } = who;
  if (access === 'admin' || user.userId !== userId)
    throw new BacklineError('FORBIDDEN', 'a user token gives access to its own user only');
  return {
    project: user.projectId,
    caller: userCaller(user.projectId, user.userId),
    actor: `user:${userPseudonym(user.projectId, user.userId)}`,
  };
}

/** The `:id` of a user route, URL-decoded and servable. */
export function parseUserId(raw: string): string {
  let userId: string;
  try {
    userId = decodeURIComponent(raw);
  } catch {
    throw new BacklineError('BAD_QUERY', 'the user id is not valid URL encoding');
  }
  if (!isServableUserId(userId))
    throw new BacklineError('BAD_QUERY', 'user ids are 1 to 128 characters without `/`');
  return userId;
}

/**
 * The access of the `/v1/users/:id/…` routes (the `access` of their `createRoutes`): the
 * `:id` parsed (400 BAD_QUERY), then the caller authorized for that user.
 */
export const userAccess =
  (deps: IdentityDeps) => async (credentials: Credentials, param: string, access: UserAccess) => {
    const userId = parseUserId(param);
    const { actor, ...caller } = await authorizeUserRoute(deps, credentials, access, userId);
    // The audit names the user by pseudonym: its rows outlive an erase of the user.
    const target = userPseudonym(caller.project, userId);
    return { userId, ...caller, subject: { project: caller.project, actor, target } };
  };
