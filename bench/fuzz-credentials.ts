import { SignJWT } from 'jose';
import type { Random } from './fuzz-random.js';

/** What the runner hands each worker: the server's keys and how its project signs user JWTs. */
export interface FuzzCredentials {
  project: string;
  /** The bench project's key: ingest, read, admin. */
  key: string;
  /** A key of another project (`read` only there), to reach across projects with. */
  otherKey: string;
  otherProject: string;
  jwt: { secret: string; issuer: string; audience: string };
  /** Backline user tokens the runner had the server issue, one per user lane. */
  userTokens: string[];
}

const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A user JWT the project takes (HS256 with its secret), for `sub`, with `claims` over the defaults. */
export function signJwt(jwt: FuzzCredentials['jwt'], sub: string, claims: object = {}) {
  const now = Math.floor(Date.now() / 1000);
  const base = { sub, iss: jwt.issuer, aud: jwt.audience, iat: now, exp: now + 3600 };
  return new SignJWT({ ...base, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(Buffer.from(jwt.secret));
}

/**
 * Tokens the server must refuse, each for its own reason: unsigned (`alg: none`), a wrong
 * signature, an algorithm the project does not allow, expired, not yet valid, without `exp`,
 * of another issuer or audience, without a user, a user id the routes refuse, oversized,
 * not a JWT at all, and backline user tokens altered.
 */
export async function hostileTokens(creds: FuzzCredentials): Promise<string[]> {
  const { jwt } = creds;
  const now = Math.floor(Date.now() / 1000);
  const good = await signJwt(jwt, 'fuzz-victim');
  const [head, body, sig] = good.split('.') as [string, string, string];
  const payload = { sub: 'fuzz-victim', iss: jwt.issuer, aud: jwt.audience, exp: now + 3600 };
  const signed = (claims: object) => signJwt(jwt, 'fuzz-victim', claims);
  const tokens = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`,
    `${b64({ alg: 'none' })}.${body}.${sig}`,
    `${head}.${body}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
    `${head}.${b64({ ...payload, sub: 'someone-else' })}.${sig}`,
    `${b64({ alg: 'RS256', typ: 'JWT' })}.${body}.${sig}`,
    `${b64({ alg: 'HS512', typ: 'JWT' })}.${body}.${sig}`,
    `${b64({ alg: 'HS256', kid: '../../../etc/passwd' })}.${body}.${sig}`,
    await signed({ exp: now - 3600 }),
    await signed({ nbf: now + 3600 }),
    await signed({ exp: undefined }),
    await signed({ iss: 'https://evil.example/' }),
    await signed({ aud: 'someone-else' }),
    await signed({ sub: undefined }),
    await signed({ sub: 12345 }),
    await signed({ sub: 'a/b' }),
    await signed({ sub: 'x'.repeat(5000) }),
    await signed({ sub: '\u0000' }),
    await signed({ blob: 'x'.repeat(100_000) }),
    `${head}.${body}`,
    'a.b.c',
    '...',
    '%zz.%zz.%zz',
    'x'.repeat(20_000),
    '',
  ];
  for (const token of creds.userTokens.slice(0, 2)) {
    const [payloadPart, signature] = token.split('.') as [string, string];
    tokens.push(
      `${payloadPart}x.${signature}`,
      `${payloadPart}.${signature.slice(1)}A`,
      payloadPart,
    );
  }
  return tokens;
}

/** A key the server must refuse: unknown, malformed, or of another project. */
export function hostileKey(random: Random, creds: FuzzCredentials): string {
  return random.weighted<string>([
    [3, `bench_${random.bytes(24).toString('base64url')}`],
    [1, creds.key.slice(0, -1)],
    [1, `${creds.key}x`],
    [1, creds.key.toUpperCase()],
    [1, 'bl_' + 'A'.repeat(43)],
    [1, ''],
    [1, 'x'.repeat(random.pick([100, 10_000]))],
    [1, '%00%ff%zz'],
  ]);
}
