import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signed token: `base64url(JSON)` + `.` + HMAC-SHA256 (32 bytes: 43 base64url characters). */
export const signedJsonShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

const sign = (secret: string | Buffer, payload: string): string =>
  createHmac('sha256', secret).update(payload).digest('base64url');

/**
 * `value` as a signed token: `base64url(JSON)` + `.` + `base64url(HMAC-SHA256(secret, first
 * part))`. What user tokens and unsubscribe links are.
 *
 * @example
 * signJson(secret, { p: 'dev', u: 'u42' }); // 'eyJwIjoiZGV2Ii….Xk3…'
 */
export function signJson(secret: string | Buffer, value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/**
 * The value of a token one of `secrets` signed (`signJson`); `undefined` for anything else,
 * a token not of `signedJsonShape` included. Signatures are compared as text, so a
 * non-canonical encoding of the right bytes is refused too, and in constant time per
 * secret, so a signature cannot be found byte by byte from response timings.
 */
export function openSignedJson(
  token: string,
  secrets: readonly (string | Buffer)[],
): unknown | undefined {
  if (!signedJsonShape.test(token)) return undefined;
  const [payload, signature] = token.split('.') as [string, string];
  const given = Buffer.from(signature);
  const signed = secrets.some((secret) => {
    const expected = Buffer.from(sign(secret, payload));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!signed) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
