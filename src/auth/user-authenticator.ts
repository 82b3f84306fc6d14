import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createJwksSource } from './jwks-source.js';
import type { JwtSettings } from './jwt-settings.js';
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.js';
import { refused, type UserAuthResult } from './user-auth-result.js';
import { looksLikeUserToken, type UserIdentity, type UserTokens } from './user-token.js';

export const defaultOptions = {
  jwksCooldownMs: 30_000, // after a successful JWKS fetch, the least time before an unknown kid refetches
  jwksCacheMaxAgeMs: 600_000, // JWKS keys older than this are fetched again on the next token
  jwksTimeoutMs: 5_000, // one JWKS request
  jwksFailureCooldownMs: 5_000, // after a failed JWKS fetch, no fetch for this long
  maxTokenLength: 16 * 1024, // characters; longer tokens are refused unread (`too_large`)
};

export type UserAuthenticatorOptions = typeof defaultOptions;

export interface UserAuthProject {
  id: string;
  /** The project's identity provider; without it the project takes backline user tokens only. */
  jwt?: JwtSettings | undefined;
}

export interface UserAuthenticatorDeps {
  projects: readonly UserAuthProject[];
  /** backline's own user tokens (`createUserTokens`), kept working beside JWTs. */
  legacyTokens?: Pick<UserTokens, 'verify'>;
  /** Counts refusals in `backline_auth_user_tokens_refused_total{reason}`. */
  metrics?: Pick<Metrics, 'userTokensRefused'>;
  log?: Pick<Logger, 'warn'>;
  now?: () => number;
}

export interface UserAuthenticator {
  /** The identity a token speaks for, or why it is refused (counted unless `missing`). */
  check(token: string | undefined): Promise<UserAuthResult>;
  /** `check` for callers that need only the identity. */
  verify(token: string | undefined): Promise<UserIdentity | undefined>;
}

/**
 * Turns a user token into the end user it speaks for: a backline user token, or a JWT of a
 * project's identity provider. The JWT's unverified `iss` only picks which project's key
 * set to verify with; every claim is then checked against that project's settings alone.
 *
 * @example
 * const users = createUserAuthenticator({ projects: config.projects.map((p) => ({ id: p.id, jwt: p.auth?.jwt })), legacyTokens, metrics });
 * const result = await users.check(bearer);
 * if (!result.ok) throw new BacklineError('BAD_TOKEN'); // result.reason for the log
 */
export function createUserAuthenticator(
  deps: UserAuthenticatorDeps,
  options: Partial<UserAuthenticatorOptions> = {},
): UserAuthenticator {
  const opts = { ...defaultOptions, ...options };
  const byIssuer = verifiersByIssuer(deps, opts);

  async function check(token: string | undefined): Promise<UserAuthResult> {
    if (!token) return refused('missing');
    if (token.length > opts.maxTokenLength) return refused('too_large');
    if (looksLikeUserToken(token)) {
      const identity = deps.legacyTokens?.verify(token);
      return identity ? { ok: true, identity, via: 'legacy' } : refused('bad_legacy_token');
    }
    return checkJwt(byIssuer, token);
  }

  async function counted(token: string | undefined): Promise<UserAuthResult> {
    const result = await check(token);
    if (!result.ok && result.reason !== 'missing')
      deps.metrics?.userTokensRefused.inc({ reason: result.reason });
    return result;
  }

  return {
    check: counted,
    verify: async (token) => {
      const result = await counted(token);
      return result.ok ? result.identity : undefined;
    },
  };
}

/**
 * A JWT checked by the projects of its issuer. The unverified `iss` chooses them and nothing
 * else: each verifies the token against its own key, issuer and audience.
 */
async function checkJwt(
  byIssuer: ReadonlyMap<string, JwtVerifier[]>,
  token: string,
): Promise<UserAuthResult> {
  let alg: unknown, iss: unknown;
  try {
    ({ alg } = decodeProtectedHeader(token));
    ({ iss } = decodeJwt(token));
  } catch {
    return refused('malformed');
  }
  if (typeof alg !== 'string') return refused('malformed');
  if (alg.toLowerCase() === 'none') return refused('alg_not_allowed');
  const candidates = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (!candidates) return refused('unknown_issuer');
  const results = await Promise.all(candidates.map((verify) => verify(token)));
  const accepted = results.filter((result) => result.ok);
  if (accepted.length > 1) return refused('ambiguous_project');
  // Of several projects on one issuer, the refusal that is not "meant for another project".
  return accepted[0] ?? results.find((r) => !r.ok && r.reason !== 'bad_audience') ?? results[0]!;
}

/**
 * One verifier per project, grouped by issuer; projects on one JWKS URL (and cooldown) share
 * its cache.
 * Projects may share an issuer (one Auth0 tenant, one API each) only if each names its
 * audiences and none overlap: otherwise a token could be valid for either.
 */
function verifiersByIssuer(
  deps: UserAuthenticatorDeps,
  opts: UserAuthenticatorOptions,
): Map<string, JwtVerifier[]> {
  const now = deps.now ?? Date.now;
  const sources = new Map<string, ReturnType<typeof createJwksSource>>();
  const sourceOf = (url: string, cooldownSeconds: number | undefined) => {
    const cooldownMs = cooldownSeconds === undefined ? opts.jwksCooldownMs : cooldownSeconds * 1000;
    const id = `${cooldownMs} ${url}`;
    let source = sources.get(id);
    if (!source) {
      const onFailure = (err: unknown) =>
        deps.log?.warn({ err, jwksUrl: url }, 'JWKS fetch failed');
      source = createJwksSource(url, { ...jwksOptions(opts), cooldownMs }, { now, onFailure });
      sources.set(id, source);
    }
    return source;
  };
  const byIssuer = new Map<string, JwtVerifier[]>();
  const audiences = new Map<string, Set<string>>();
  for (const { id, jwt } of deps.projects) {
    if (!jwt) continue;
    checkSharedIssuer(id, jwt, audiences);
    const key =
      jwt.secret !== undefined
        ? Buffer.from(jwt.secret, 'utf8')
        : sourceOf(jwt.jwksUrl!, jwt.jwksCooldownSeconds);
    const verify = createJwtVerifier(id, jwt, { key, now });
    byIssuer.set(jwt.issuer, [...(byIssuer.get(jwt.issuer) ?? []), verify]);
  }
  return byIssuer;
}

const jwksOptions = (opts: UserAuthenticatorOptions) => ({
  cooldownMs: opts.jwksCooldownMs,
  cacheMaxAgeMs: opts.jwksCacheMaxAgeMs,
  timeoutMs: opts.jwksTimeoutMs,
  failureCooldownMs: opts.jwksFailureCooldownMs,
});

/** Records the project's audiences under its issuer; throws if they could overlap another's. */
function checkSharedIssuer(id: string, jwt: JwtSettings, seen: Map<string, Set<string>>): void {
  const mine = jwt.audience === undefined ? undefined : [jwt.audience].flat();
  const taken = seen.get(jwt.issuer);
  const shared = `project ${id} shares the JWT issuer ${jwt.issuer} with another project`;
  if (taken && (!mine || taken.size === 0)) throw new Error(`${shared}: both need an audience`);
  for (const aud of mine ?? [])
    if (taken?.has(aud)) throw new Error(`${shared} and its audience ${aud}`);
  seen.set(jwt.issuer, new Set([...(taken ?? []), ...(mine ?? [])]));
}
