import { openSignedJson, signJson } from '../../../auth/signed-json.js';

/** Whose email, and which category of it, one unsubscribe link turns off. */
export interface UnsubscribeTarget {
  project: string;
  userId: string;
  category: string;
}

/** Longer tokens are refused before any HMAC: a link's names fit far below this. */
const maxTokenLength = 2048 + 1 + 43;

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
  const token = ({ project, userId, category }: UnsubscribeTarget): string =>
    signJson(secrets[0]!, [project, userId, category]);
  const url = (target: UnsubscribeTarget) => `${base}${unsubscribePath}/${token(target)}`;

  return {
    token,
    url,
    headers: (target: UnsubscribeTarget) => unsubscribeHeaders(url(target)),
    /** The target of a token one of `secrets` signed; `undefined` for anything else. */
    verify(candidate: string): UnsubscribeTarget | undefined {
      if (candidate.length > maxTokenLength) return undefined;
      const claims = openSignedJson(candidate, secrets);
      if (!Array.isArray(claims) || claims.length !== 3) return undefined;
      if (!claims.every((claim) => typeof claim === 'string' && claim.length > 0)) return undefined;
      const [project, userId, category] = claims as [string, string, string];
      return { project, userId, category };
    },
  };
}

export type UnsubscribeLinks = ReturnType<typeof createUnsubscribeLinks>;

/** The RFC 8058 headers of an email whose unsubscribe link is `url`. */
export const unsubscribeHeaders = (url: string): Record<string, string> => ({
  'List-Unsubscribe': `<${url}>`,
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
});
