import type { Authenticator, Principal } from '../auth/key-registry.js';
import type { UserAuthRefused } from '../auth/user-auth-result.js';
import { defaultOptions as userAuthDefaults } from '../auth/user-authenticator.js';
import type { UserAuthenticator } from '../auth/user-authenticator.js';
import { looksLikeUserToken, type UserIdentity } from '../auth/user-token.js';
import { BacklineError } from '../errors.js';
import type { Credentials } from './credentials.js';

/** Checks user tokens: backline's own and the projects' JWTs (`createUserAuthenticator`). */
export type UserCheck = Pick<UserAuthenticator, 'check'>;

export interface IdentityDeps {
  auth: Authenticator;
  users: UserCheck;
}

/** Who a request or upgrade speaks for: a project key, an end user, or nobody. */
export type Identity =
  | { kind: 'key'; principal: Principal }
  | { kind: 'user'; user: UserIdentity }
  | { kind: 'anonymous' };

/** A compact JWS: three base64url parts, the last (the signature) never empty. */
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

/** Whether a credential has the form of a user token or a JWT (a bad token, not an unknown key). */
export const looksLikeUserCredential = (credential: string | undefined): boolean =>
  credential !== undefined && (looksLikeUserToken(credential) || jwtShape.test(credential));

/**
 * A refused user token as its catalogue error: none is 401 UNAUTHORIZED; the identity
 * provider's keys out of reach is 503 AUTH_UNAVAILABLE (the token may be fine: retry, do not
 * sign the user out); anything else 401 BAD_TOKEN naming the reason (`expired`,
 * `bad_audience`…), which tells an integrator what to fix and an attacker nothing a
 * signature check would not.
 */
export function refusalError(refusal: UserAuthRefused): BacklineError {
  if (refusal.reason === 'missing')
    return new BacklineError('UNAUTHORIZED', 'a key or a user token is required');
  if (refusal.reason === 'jwks_unavailable')
    return new BacklineError('AUTH_UNAVAILABLE', undefined, {
      retryAfterMs: userAuthDefaults.jwksFailureCooldownMs,
    });
  return new BacklineError('BAD_TOKEN', `user token refused: ${refusal.reason}`);
}

/**
 * A user id backline serves: 1 to 128 characters without `/` or control characters. State
 * keys are `/`-separated (`inbox/<project>/<user>/…`), so a `/` would let one user's prefix
 * cover another's (`a` over `a/b`).
 */
export const isServableUserId = (userId: string): boolean =>
  userId.length > 0 && userId.length <= 128 && !/[/\p{Cc}]/u.test(userId);

/** The end user a token speaks for; throws UNAUTHORIZED, BAD_TOKEN or AUTH_UNAVAILABLE. */
export async function verifyUser(
  users: UserCheck,
  token: string | undefined,
): Promise<UserIdentity> {
  const result = await users.check(token);
  if (!result.ok) throw refusalError(result);
  // A backline user token made by an app backend may name any id: the JWT verifier checks its own.
  if (!isServableUserId(result.identity.userId))
    throw new BacklineError('BAD_TOKEN', 'user token refused: bad_user_claim');
  return result.identity;
}

/**
 * Who the credentials speak for. A project key comes as `?key=` or `Authorization: Bearer`,
 * a user token (backline's or a JWT) as `?token=` or Bearer; `?token=` wins over a key. A
 * Bearer that is no key is verified as a user token when it has a token's form; otherwise,
 * like an unknown `?key=`, it is 401 UNAUTHORIZED. No credential at all is `anonymous`: the
 * caller decides whether that may do anything.
 */
export async function identify(deps: IdentityDeps, credentials: Credentials): Promise<Identity> {
  const tokenParam = credentials.query.get('token');
  if (tokenParam === null) {
    const principal = deps.auth.authenticate(credentials.credential);
    if (principal) return { kind: 'key', principal };
  }
  const token = tokenParam ?? (credentials.credentialInHeader ? credentials.credential : undefined);
  if (token === undefined) {
    if (credentials.credential) throw new BacklineError('UNAUTHORIZED');
    return { kind: 'anonymous' };
  }
  if (tokenParam === null && !looksLikeUserCredential(token))
    throw new BacklineError('UNAUTHORIZED');
  return { kind: 'user', user: await verifyUser(deps.users, token) };
}
