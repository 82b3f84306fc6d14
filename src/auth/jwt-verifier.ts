import { jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { JwksUnavailableError } from './jwks-source.js';
import type { JwtSettings } from './jwt-settings.js';
import { refused, type RefusalReason, type UserAuthResult } from './user-auth-result.js';

/** Verifies a JWT for one project. */
export type JwtVerifier = (token: string) => Promise<UserAuthResult>;

export interface JwtVerifierDeps {
  /** The HMAC secret's bytes, or the project's JWKS (`createJwksSource`). */
  key: Uint8Array | JWTVerifyGetKey;
  now: () => number;
}

/**
 * The user id a backline state key can hold: 1 to 128 characters without `/` or control
 * characters (the rule of `isServableUserId` in transport, which auth may not import).
 */
const isServableUserId = (userId: string): boolean =>
  userId.length > 0 && userId.length <= 128 && !/[/\p{Cc}]/u.test(userId);

/**
 * The claim at `path`: a claim named exactly so (Auth0's namespaced claims hold dots), else
 * the dotted path into nested objects. Only own properties, so `__proto__.x` finds nothing.
 */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** jose's error, by its code, as a refusal reason. */
export function reasonOf(err: unknown): RefusalReason {
  if (err instanceof JwksUnavailableError) return 'jwks_unavailable';
  const { code, claim } = (err ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return 'not_yet_valid';
      if (claim === 'aud') return 'bad_audience';
      if (claim === 'exp')
        return (err as { reason?: unknown }).reason === 'missing' ? 'no_expiry' : 'bad_claims';
      return 'bad_claims';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg_not_allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown_key';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'ambiguous_key';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed';
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'unsupported';
    default:
      return 'invalid';
  }
}

/** The user id in the configured claim; integers are taken as their decimal text. */
function userIdOf(
  payload: JWTPayload,
  path: string,
): { userId: string } | { reason: RefusalReason } {
  const value = claimAt(payload, path);
  if (value === undefined || value === null) return { reason: 'no_user_claim' };
  const userId =
    typeof value === 'string' ? value : Number.isSafeInteger(value) ? String(value) : undefined;
  return userId !== undefined && isServableUserId(userId)
    ? { userId }
    : { reason: 'bad_user_claim' };
}

/**
 * A verifier of one project's JWTs: signature with the project's key and algorithms only,
 * `iss` exactly, `aud` when configured, `exp` required, `exp`/`nbf` within the leeway.
 *
 * @example
 * const verify = createJwtVerifier('shop', settings, { key: secretBytes, now: Date.now });
 * await verify(token); // { ok: true, identity: { projectId: 'shop', userId: 'u1' }, … }
 */
export function createJwtVerifier(
  projectId: string,
  settings: JwtSettings,
  deps: JwtVerifierDeps,
): JwtVerifier {
  const base: JWTVerifyOptions = {
    algorithms: settings.algorithms,
    issuer: settings.issuer,
    clockTolerance: settings.leewaySeconds,
    requiredClaims: ['exp'],
    ...(settings.audience !== undefined && { audience: settings.audience }),
  };
  const { key } = deps;
  return async (token) => {
    const options = { ...base, currentDate: new Date(deps.now()) };
    let payload: JWTPayload;
    try {
      ({ payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options));
    } catch (err) {
      return refused(reasonOf(err), err instanceof Error ? err.message : String(err));
    }
    const user = userIdOf(payload, settings.userIdClaim);
    if ('reason' in user) return refused(user.reason);
    return {
      ok: true,
      identity: { projectId, userId: user.userId },
      via: 'jwt',
      expiresAt: payload.exp! * 1000,
    };
  };
}
