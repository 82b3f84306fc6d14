import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

/** The identity provider's keys could not be had: the token is refused `jwks_unavailable`. */
export class JwksUnavailableError extends Error {}

export interface JwksSourceOptions {
  /** After a successful fetch, the least time before an unknown `kid` may fetch again. */
  cooldownMs: number;
  /** Keys older than this are fetched again before the next verification. */
  cacheMaxAgeMs: number;
  /** One JWKS request, in ms. */
  timeoutMs: number;
  /** After a failed fetch, no fetch for this long, in ms. */
  failureCooldownMs: number;
}

export interface JwksSourceDeps {
  now: () => number;
  /** Called once per failed fetch (not per refused token), to log the cause. */
  onFailure?: (err: unknown) => void;
}

/** A key lookup that found no key, or several, in a set that was fetched fine. */
const isLookupMiss = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
};

/**
 * The keys of a JWKS URL, for `jwtVerify`. jose's remote set caches them, refetches on an
 * unknown `kid` at most once per `cooldownMs`, and shares one request among concurrent
 * verifications. Its cooldown only starts after a successful fetch, though: while the
 * provider is down, every token naming its issuer would fetch again. So after a failure no
 * fetch is made for `failureCooldownMs`; tokens whose key is still cached (and fresh) keep
 * verifying meanwhile, the rest are refused `jwks_unavailable`.
 *
 * @example
 * const key = createJwksSource(url, defaults, { now: Date.now });
 * await jwtVerify(token, key, { issuer, algorithms: ['RS256'] });
 */
export function createJwksSource(
  url: string,
  options: JwksSourceOptions,
  deps: JwksSourceDeps,
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    timeoutDuration: options.timeoutMs,
  });
  let failedAt = -Infinity;
  // The keys cached when the last fetch failed: verified against without any fetch.
  let cached: JWTVerifyGetKey | undefined;

  const fromCache: JWTVerifyGetKey = async (header, token) => {
    if (!cached || !remote.fresh) throw new JwksUnavailableError(`${url} failed recently`);
    try {
      return await cached(header, token);
    } catch (err) {
      // An unknown kid would have been fetched but for the failure: the keys are unknown.
      if (isLookupMiss(err)) throw new JwksUnavailableError(`${url} failed recently`);
      throw err;
    }
  };

  return async (header, token) => {
    if (deps.now() - failedAt < options.failureCooldownMs) return fromCache(header, token);
    try {
      return await remote(header, token);
    } catch (err) {
      if (isLookupMiss(err)) throw err;
      // Concurrent verifications share one failed request: it is logged once.
      if (deps.now() - failedAt >= options.failureCooldownMs) deps.onFailure?.(err);
      failedAt = deps.now();
      const keys = remote.fresh ? remote.jwks() : undefined;
      cached = keys ? createLocalJWKSet(keys) : undefined;
      throw new JwksUnavailableError(`fetching ${url} failed`, { cause: err });
    }
  };
}
