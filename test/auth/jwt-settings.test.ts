import { describe, expect, it } from 'vitest';
import { jwtSettingsSchema } from '../../src/auth/jwt-settings.js';

const issuer = 'https://ref.supabase.co/auth/v1';
const secret32 = 's'.repeat(32);
const jwksUrl = 'https://tenant.auth0.com/.well-known/jwks.json';

/** The messages of a refused input (so a test sees why, not only that). */
function refusal(input: unknown): string {
  const result = jwtSettingsSchema.safeParse(input);
  if (result.success) throw new Error(`accepted: ${JSON.stringify(input)}`);
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
}

describe('jwtSettingsSchema', () => {
  it('fills defaults: HS256 for a secret, asymmetric algorithms for a JWKS URL', () => {
    expect(jwtSettingsSchema.parse({ secret: secret32, issuer })).toEqual({
      secret: secret32,
      issuer,
      algorithms: ['HS256'],
      userIdClaim: 'sub',
      leewaySeconds: 30,
      allowInsecureLoopback: false,
    });
    expect(jwtSettingsSchema.parse({ jwksUrl, issuer }).algorithms).toEqual([
      'RS256',
      'ES256',
      'EdDSA',
    ]);
  });

  it('never accepts alg none, nor an unknown field', () => {
    expect(refusal({ secret: secret32, issuer, algorithms: ['none'] })).toMatch(/^algorithms\.0/);
    expect(refusal({ secret: secret32, issuer, alg: 'none' })).toMatch(/alg/);
    expect(refusal({ secret: secret32, issuer, audiance: 'authenticated' })).toMatch(/audiance/);
  });

  it('takes exactly one of secret and jwksUrl, and requires the issuer', () => {
    expect(refusal({ issuer })).toMatch(/exactly one/);
    expect(refusal({ secret: secret32, jwksUrl, issuer })).toMatch(/exactly one/);
    expect(refusal({ secret: secret32 })).toMatch(/^issuer/);
  });

  it('wants HMAC secrets at least as long as the hash', () => {
    expect(refusal({ secret: 's'.repeat(31), issuer })).toMatch(/^secret: HS256 needs .* 32 bytes/);
    // Counted in UTF-8 bytes: 16 two-byte characters make 32 bytes.
    expect(jwtSettingsSchema.safeParse({ secret: 'é'.repeat(16), issuer }).success).toBe(true);
    expect(refusal({ secret: secret32, issuer, algorithms: ['HS256', 'HS384'] })).toMatch(
      /48 bytes/,
    );
    expect(refusal({ secret: 's'.repeat(63), issuer, algorithms: ['HS512'] })).toMatch(/64 bytes/);
    expect(
      jwtSettingsSchema.safeParse({ secret: 's'.repeat(64), issuer, algorithms: ['HS512'] })
        .success,
    ).toBe(true);
  });

  it('keeps HMAC to secrets and public-key algorithms to JWKS URLs', () => {
    expect(refusal({ secret: secret32, issuer, algorithms: ['HS256', 'RS256'] })).toMatch(
      /^algorithms: a secret verifies HS\* only/,
    );
    expect(refusal({ jwksUrl, issuer, algorithms: ['RS256', 'HS256'] })).toMatch(
      /^algorithms: HS256 needs a secret/,
    );
  });

  it('wants https JWKS URLs; http only on loopback with allowInsecureLoopback', () => {
    const http = (host: string, allowInsecureLoopback: boolean) =>
      jwtSettingsSchema.safeParse({
        jwksUrl: `http://${host}/jwks.json`,
        issuer,
        allowInsecureLoopback,
      }).success;
    expect(http('127.0.0.1:8080', false)).toBe(false);
    expect(http('127.0.0.1:8080', true)).toBe(true);
    expect(http('localhost', true)).toBe(true);
    expect(http('[::1]:9000', true)).toBe(true);
    expect(http('tenant.auth0.com', true)).toBe(false);
    expect(http('127.0.0.1.nip.io', true)).toBe(false);
    expect(http('10.0.0.1', true)).toBe(false);
    expect(refusal({ jwksUrl: 'ftp://tenant.auth0.com/jwks', issuer })).toMatch(/^jwksUrl/);
    expect(refusal({ jwksUrl: 'https://user:pw@tenant.auth0.com/jwks', issuer })).toMatch(
      /credentials/,
    );
  });

  it('checks the user id claim path and the leeway', () => {
    for (const userIdClaim of ['sub', 'app_metadata.uid', 'https://example.com/uid'])
      expect(jwtSettingsSchema.safeParse({ secret: secret32, issuer, userIdClaim }).success).toBe(
        true,
      );
    for (const userIdClaim of ['', '.sub', 'a..b', 'sub.', 'a b'])
      expect(refusal({ secret: secret32, issuer, userIdClaim })).toMatch(/^userIdClaim/);
    expect(refusal({ secret: secret32, issuer, leewaySeconds: 301 })).toMatch(/^leewaySeconds/);
    expect(refusal({ secret: secret32, issuer, leewaySeconds: -1 })).toMatch(/^leewaySeconds/);
  });
});
