import { z } from 'zod';

/**
 * Signature algorithms a project may accept. `none` is not among them, so no setting can
 * let an unsigned token in.
 */
export const jwtAlgorithms = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export type JwtAlgorithm = (typeof jwtAlgorithms)[number];

/**
 * Bytes an HMAC secret needs: at least the hash's output (RFC 7518 §3.2). Shorter secrets
 * make the signature guessable offline from one token.
 */
const hmacSecretBytes: Partial<Record<JwtAlgorithm, number>> = {
  HS256: 32,
  HS384: 48,
  HS512: 64,
};

const isHmac = (alg: JwtAlgorithm): boolean => alg in hmacSecretBytes;

/** Keys from a JWKS are the identity provider's public keys: asymmetric algorithms only. */
const defaultJwksAlgorithms: JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

/**
 * `sub`, a dotted path into nested claims (`app_metadata.uid`), or a namespaced claim
 * (`https://example.com/uid`): segments between dots are never empty.
 */
const claimPathPattern = /^[^.\s]+(\.[^.\s]+)*$/;

/** The hosts an `http:` JWKS URL may name with `allowInsecureLoopback`: this machine only. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * How a project's users prove who they are with the JWTs of the project's identity provider
 * (`projects[].auth.jwt`). Insecure combinations are refused here, at parse, so a server never
 * starts with them. Unknown fields are refused too: a misspelt `audience` must not silently
 * turn the audience check off.
 *
 * @example
 * jwtSettingsSchema.parse({
 *   jwksUrl: 'https://tenant.auth0.com/.well-known/jwks.json',
 *   issuer: 'https://tenant.auth0.com/',
 *   audience: 'https://api.example.com',
 * }).algorithms; // ['RS256', 'ES256', 'EdDSA']
 */
export const jwtSettingsSchema = z
  .strictObject({
    /** Shared HMAC secret (its UTF-8 bytes): HS* algorithms only. */
    secret: z.string().min(1).optional(),
    /** The provider's public keys; `https:` (see `allowInsecureLoopback`). */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * The `iss` every token must carry, exactly (Auth0's ends with `/`). It also picks the
     * project a token belongs to, so it is required.
     */
    issuer: z.string().min(1),
    /** When set, the token's `aud` must contain one of these. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Default: `['HS256']` with a secret, `['RS256', 'ES256', 'EdDSA']` with a JWKS URL. */
    algorithms: z.array(z.enum(jwtAlgorithms)).min(1).optional(),
    /** The claim holding the user id: a name, or a dotted path into nested claims. */
    userIdClaim: z
      .string()
      .max(256)
      .regex(claimPathPattern, 'a claim name or dotted path')
      .default('sub'),
    /** Clock skew allowed on `exp` and `nbf`, in seconds. */
    leewaySeconds: z.number().int().min(0).max(300).default(30),
    /**
     * After a JWKS fetch, the least time before a token naming an unknown `kid` fetches the
     * set again (a key the provider just published); default 30 s (the server's setting).
     */
    jwksCooldownSeconds: z.number().int().min(1).max(3600).optional(),
    /** Lets `jwksUrl` be `http:` on a loopback host: only for a test double on this machine. */
    allowInsecureLoopback: z.boolean().default(false),
  })
  .superRefine((settings, ctx) => {
    for (const issue of insecurities(settings))
      ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
  })
  .transform((settings) => ({
    ...settings,
    algorithms:
      settings.algorithms ?? (settings.secret !== undefined ? ['HS256'] : defaultJwksAlgorithms),
  }));

export type JwtSettings = z.output<typeof jwtSettingsSchema>;
export type JwtSettingsInput = z.input<typeof jwtSettingsSchema>;

interface SettingsIssue {
  path: string;
  message: string;
}

/** Why a combination of settings would let forged or unchecked tokens in. */
function insecurities(settings: {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  algorithms?: JwtAlgorithm[] | undefined;
  allowInsecureLoopback: boolean;
}): SettingsIssue[] {
  const { secret, jwksUrl } = settings;
  if ((secret === undefined) === (jwksUrl === undefined))
    return [{ path: 'secret', message: 'set exactly one of `secret` and `jwksUrl`' }];
  if (secret !== undefined) return secretIssues(secret, settings.algorithms ?? ['HS256']);
  return jwksIssues(jwksUrl!, settings.algorithms ?? defaultJwksAlgorithms, settings);
}

function secretIssues(secret: string, algorithms: JwtAlgorithm[]): SettingsIssue[] {
  // A secret with RS*/ES*/EdDSA would invite the key-confusion attack (RFC 8725 §2.1).
  const asymmetric = algorithms.filter((alg) => !isHmac(alg));
  if (asymmetric.length > 0)
    return [{ path: 'algorithms', message: `a secret verifies HS* only, not ${asymmetric}` }];
  const needed = Math.max(...algorithms.map((alg) => hmacSecretBytes[alg]!));
  if (Buffer.byteLength(secret, 'utf8') < needed)
    return [
      { path: 'secret', message: `${algorithms} needs a secret of at least ${needed} bytes` },
    ];
  return [];
}

function jwksIssues(
  jwksUrl: string,
  algorithms: JwtAlgorithm[],
  settings: { allowInsecureLoopback: boolean },
): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  const hmac = algorithms.filter(isHmac);
  if (hmac.length > 0)
    issues.push({ path: 'algorithms', message: `${hmac} needs a secret, not a JWKS URL` });
  const url = new URL(jwksUrl);
  if (url.protocol === 'http:' && !(settings.allowInsecureLoopback && isLoopbackHost(url.hostname)))
    issues.push({
      path: 'jwksUrl',
      message: 'a JWKS URL must be https: (http: only on loopback with allowInsecureLoopback)',
    });
  if (url.username || url.password)
    issues.push({ path: 'jwksUrl', message: 'a JWKS URL carries no credentials' });
  return issues;
}
