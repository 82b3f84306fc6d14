import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSignedJson, signedJsonShape, signJson } from './signed-json.js';

/** The end user a valid user token speaks for. */
export interface UserIdentity {
  readonly projectId: string;
  readonly userId: string;
}

export interface IssuedToken {
  token: string;
  /** Epoch ms after which `verify` refuses the token. */
  expiresAt: number;
}

/** Shorter configured secrets would make the HMAC guessable offline. */
export const minSecretLength = 32;

/**
 * User tokens until the security issue brings JWT: `base64url(JSON {p, u, exp})` + `.` +
 * `base64url(HMAC-SHA256(secret, first part))`. They are issued by the admin API (or an app
 * backend that holds the same secret) and let one end user reach their own socket and inbox.
 *
 * @example
 * const tokens = createUserTokens(loadUserTokenSecret('./data'));
 * const { token } = tokens.issue('dev', 'u42', 24 * 3600_000);
 * tokens.verify(token); // { projectId: 'dev', userId: 'u42' }
 */
export function createUserTokens(secret: Buffer, now: () => number = Date.now) {
  if (secret.length < 16) throw new Error('a user token secret needs at least 16 bytes');

  return {
    issue(project: string, userId: string, ttlMs: number): IssuedToken {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('ttlMs must be positive');
      const expiresAt = Math.floor(now() + ttlMs);
      return { token: signJson(secret, { p: project, u: userId, exp: expiresAt }), expiresAt };
    },

    /** The identity of a well-signed, unexpired token; `undefined` for anything else. */
    verify(token: string | undefined): UserIdentity | undefined {
      if (!token) return undefined;
      const claims = openSignedJson(token, [secret]);
      const { p, u, exp } = (claims ?? {}) as Record<string, unknown>;
      if (typeof p !== 'string' || typeof u !== 'string' || typeof exp !== 'number')
        return undefined;
      if (exp <= now()) return undefined;
      return { projectId: p, userId: u };
    },
  };
}

export type UserTokens = ReturnType<typeof createUserTokens>;

/** Whether a credential has the form of a user token (to tell a bad token from an unknown key). */
export const looksLikeUserToken = (credential: string | undefined): boolean =>
  credential !== undefined && signedJsonShape.test(credential);

/**
 * The secret user tokens are signed with: the configured one, else 32 random bytes made on
 * first start and kept in `<dataDir>/user-token-secret` (mode 0600), so tokens survive
 * restarts. Every node of a cluster must be configured with the same secret.
 */
export function loadUserTokenSecret(dataDir: string, configured?: string): Buffer {
  if (configured !== undefined) {
    if (configured.length < minSecretLength)
      throw new Error(`the user token secret needs at least ${minSecretLength} characters`);
    return Buffer.from(configured, 'utf8');
  }
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'user-token-secret');
  try {
    // `wx`: two processes starting on one folder cannot both write a secret.
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (secret.length < 32) throw new Error(`${file} does not hold a 32-byte secret`);
  return secret;
}
