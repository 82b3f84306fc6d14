import { can, type Authenticator } from '../../auth/key-registry.js';
import { looksLikeUserToken, type UserTokens } from '../../auth/user-token.js';
import { BacklineError } from '../../errors.js';
import { userPseudonym } from '../../privacy/pseudonym.js';
import type { Credentials } from '../credentials.js';
import { userCaller, type Caller } from '../rate-limits.js';

/**
 * Who may call a `/v1/users/:id/…` route: `admin` and `read` are project keys with that
 * scope (`admin` implies `read`, as everywhere: see `can`); `self-…` also lets in the user's
 * own token.
 */
export type UserAccess = 'admin' | 'read' | 'self-or-admin' | 'self-or-read';

/** The project a user route acts in, whose request budget the call takes from, and who it is. */
export interface UserRouteCaller {
  project: string;
  caller: Caller;
  /** `key:<key id>` or `user:<pseudonym>`, as the audit names callers. */
  actor: string;
}

/**
 * Resolves the caller of a user route to the project it acts in, or throws. Project keys
 * come as `?key=` or `Authorization: Bearer`; user tokens as `?token=` or `Bearer`. A user
 * token grants access only to its own user (403 `FORBIDDEN` otherwise).
 */
export function authorizeUserRoute(
  deps: { auth: Authenticator; tokens: Pick<UserTokens, 'verify'> },
  info: Credentials,
  access: UserAccess,
  userId: string,
): UserRouteCaller {
  const tokenParam = info.query.get('token');
  const principal = tokenParam === null ? deps.auth.authenticate(info.credential) : undefined;
  if (principal) {
    const scope = access === 'admin' || access === 'self-or-admin' ? 'admin' : 'read';
    if (can(principal, scope))
      return {
        project: principal.projectId,
        caller: { limit: 'key', id: principal.keyId },
        actor: `key:${principal.keyId}`,
      };
    throw new BacklineError('FORBIDDEN');
  }
  const token = tokenParam ?? (info.credentialInHeader ? info.credential : undefined);
  const user = deps.tokens.verify(token ?? undefined);
  if (user) {
    if (access.startsWith('self-') && user.userId === userId)
      return {
        project: user.projectId,
        caller: userCaller(user.projectId, user.userId),
        actor: `user:${userPseudonym(user.projectId, user.userId)}`,
      };
    throw new BacklineError('FORBIDDEN', 'a user token gives access to its own user only');
  }
  if (!info.credential && !tokenParam) throw new BacklineError('UNAUTHORIZED');
  throw new BacklineError(
    tokenParam !== null || looksLikeUserToken(info.credential) ? 'BAD_TOKEN' : 'UNAUTHORIZED',
  );
}

/**
 * A user id backline serves: 1 to 128 characters without `/` or control characters. State
 * keys are `/`-separated (`inbox/<project>/<user>/…`), so a `/` would let one user's
 * prefix cover another's (`a` over `a/b`).
 */
export const isServableUserId = (userId: string): boolean =>
  userId.length > 0 && userId.length <= 128 && !/[/\p{Cc}]/u.test(userId);

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
  (deps: { auth: Authenticator; tokens: Pick<UserTokens, 'verify'> }) =>
  (credentials: Credentials, param: string, access: UserAccess) => {
    const userId = parseUserId(param);
    const { actor, ...caller } = authorizeUserRoute(deps, credentials, access, userId);
    // The audit names the user by pseudonym: its rows outlive an erase of the user.
    const target = userPseudonym(caller.project, userId);
    return { userId, ...caller, subject: { project: caller.project, actor, target } };
  };
