import type { UserIdentity } from './user-token.js';

/**
 * Why a user token was refused: a bounded set, so it can label a metric. Only `missing`
 * (no token at all) is not counted as a refusal.
 */
export const refusalReasons = [
  'missing', // no token
  'too_large', // longer than maxTokenLength: refused unread
  'malformed', // not a compact JWS JWT, nor a backline user token
  'alg_not_allowed', // `alg: none`, or an algorithm the project does not accept
  'unknown_issuer', // `iss` absent or not the issuer of any project
  'ambiguous_project', // valid for two projects that share an issuer (overlapping audiences)
  'bad_signature',
  'unknown_key', // no key in the JWKS has the token's `kid` (after a refetch)
  'ambiguous_key', // several keys of the JWKS match and the token names none
  'jwks_unavailable', // the provider's keys could not be fetched
  'expired', // `exp` past, beyond the leeway
  'not_yet_valid', // `nbf` in the future, beyond the leeway
  'no_expiry', // no `exp` claim: such a token would never end
  'bad_audience',
  'bad_claims', // a registered claim of the wrong type
  'no_user_claim', // the configured user id claim is absent
  'bad_user_claim', // the user id is not a string (or integer) backline can serve
  'unsupported', // a header jose does not support (`crit`, `b64`…)
  'bad_legacy_token', // a backline user token that is forged, expired or signed with another secret
  'invalid', // anything else jose refused
] as const;

export type RefusalReason = (typeof refusalReasons)[number];

/** A verified token: who it speaks for and which kind it was. */
export interface UserAuthAccepted {
  readonly ok: true;
  readonly identity: UserIdentity;
  readonly via: 'jwt' | 'legacy';
  /** Epoch ms at which a JWT's `exp` passes (a socket may close then); absent for legacy tokens. */
  readonly expiresAt?: number;
}

export interface UserAuthRefused {
  readonly ok: false;
  readonly reason: RefusalReason;
  /** jose's message or the JWKS failure, for logs: never the token. */
  readonly detail?: string;
}

export type UserAuthResult = UserAuthAccepted | UserAuthRefused;

export const refused = (reason: RefusalReason, detail?: string): UserAuthRefused =>
  detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
