import { createHmac, timingSafeEqual } from 'node:crypto';

/** Whose email, and which category of it, one unsubscribe link turns off. */
export interface UnsubscribeTarget {
  project: string;
  userId: string;
  category: string;
}

/** HMAC-SHA256 signatures are 32 bytes: 43 base64url characters. */
const linkShape = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}$/;

/** The path of an unsubscribe link under `baseUrl`; the route reads the token from `:token`. */
export const unsubscribePath = '/v1/unsubscribe';

/**
 * Signed one-click unsubscribe links (RFC 8058): `<baseUrl>/v1/unsubscribe/<token>`, the
 * token `base64url(JSON [project, user, category])` + `.` + `base64url(HMAC-SHA256)`. A link
 * carries no expiry: it works until the secret that signed it leaves `secrets` (the first
 * signs, every one verifies, so a rotation can keep old links working for a while and then
 * drop them). `headers` are what every non-critical email carries: `List-Unsubscribe` with
 * the https link and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
 *
 * @example
 * const links = createUnsubscribeLinks({ baseUrl: 'https://notify.example.com', secrets: [secret] });
 * links.headers({ project: 'dev', userId: 'u42', category: 'news' });
 * links.verify(token); // { project: 'dev', userId: 'u42', category: 'news' }
 */
export function createUnsubscribeLinks(options: { baseUrl: string; secrets: readonly string[] }) {
  const { secrets } = options;
  if (secrets.length === 0) throw new Error('unsubscribe links need a secret');
  const base = options.baseUrl.replace(/\/+$/, '');
  const sign = (secret: string, payload: string) =>
    createHmac('sha256', secret).update(payload).digest('base64url');

  function token({ project, userId, category }: UnsubscribeTarget): string {
    const payload = Buffer.from(JSON.stringify([project, userId, category])).toString('base64url');
    return `${payload}.${sign(secrets[0]!, payload)}`;
  }

  const url = (target: UnsubscribeTarget) => `${base}${unsubscribePath}/${token(target)}`;

  return {
    token,
    url,
    headers: (target: UnsubscribeTarget): Record<string, string> => ({
      'List-Unsubscribe': `<${url(target)}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    }),
    /** The target of a token one of `secrets` signed; `undefined` for anything else. */
    verify(candidate: string): UnsubscribeTarget | undefined {
      if (!linkShape.test(candidate)) return undefined;
      const [payload, signature] = candidate.split('.') as [string, string];
      const given = Buffer.from(signature);
      // In constant time per secret, so a signature cannot be found byte by byte.
      const signed = secrets.some((secret) => {
        const expected = Buffer.from(sign(secret, payload));
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
      if (!signed) return undefined;
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(claims) || claims.length !== 3) return undefined;
      if (!claims.every((claim) => typeof claim === 'string' && claim.length > 0)) return undefined;
      const [project, userId, category] = claims as [string, string, string];
      return { project, userId, category };
    },
  };
}

export type UnsubscribeLinks = ReturnType<typeof createUnsubscribeLinks>;
