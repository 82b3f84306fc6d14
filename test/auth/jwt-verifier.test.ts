import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtSettingsSchema } from '../../src/auth/jwt-settings.js';
import { claimAt, createJwtVerifier } from '../../src/auth/jwt-verifier.js';

const now = 1_700_000_000_000;
const secret = 'x'.repeat(32);
const issuer = 'https://shop.example.com/auth/v1';

const signed = (claims: JWTPayload) =>
  new SignJWT({ exp: now / 1000 + 60, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(Buffer.from(secret));

describe('claimAt', () => {
  it('prefers a claim named exactly so, then follows the dotted path through own properties', () => {
    const payload = { 'a.b': 'flat', a: { b: 'nested', c: [1] }, n: null };
    expect(claimAt(payload, 'a.b')).toBe('flat');
    expect(claimAt({ a: { b: 'nested' } }, 'a.b')).toBe('nested');
    expect(claimAt(payload, 'a.c.0')).toBeUndefined();
    expect(claimAt(payload, 'n.x')).toBeUndefined();
    expect(claimAt(payload, 'a.toString')).toBeUndefined();
    expect(claimAt(payload, 'a.__proto__')).toBeUndefined();
  });
});

describe('the user id claim', () => {
  const userOf = async (claim: string | undefined, claims: JWTPayload) => {
    const settings = jwtSettingsSchema.parse({
      secret,
      issuer,
      ...(claim && { userIdClaim: claim }),
    });
    const verify = createJwtVerifier('shop', settings, {
      key: Buffer.from(secret),
      now: () => now,
    });
    return verify(await signed({ iss: issuer, sub: 'u1', ...claims }));
  };

  it('reads sub by default, a dotted path, or a namespaced claim named with dots', async () => {
    expect(await userOf(undefined, { sub: 'abc' })).toMatchObject({ identity: { userId: 'abc' } });
    const nested = { sub: 'x', app_metadata: { uid: 'u-42' } };
    expect(await userOf('app_metadata.uid', nested)).toMatchObject({
      identity: { userId: 'u-42' },
    });
    const namespaced = { 'https://example.com/uid': 'ns-1' };
    expect(await userOf('https://example.com/uid', namespaced)).toMatchObject({
      identity: { userId: 'ns-1' },
    });
    expect(await userOf('app_metadata.uid', { app_metadata: { uid: 42 } })).toMatchObject({
      identity: { userId: '42' },
    });
  });

  it('refuses a missing claim and a user id backline cannot serve', async () => {
    expect(await userOf('app_metadata.uid', { app_metadata: {} })).toMatchObject({
      reason: 'no_user_claim',
    });
    expect(await userOf(undefined, { sub: undefined })).toMatchObject({ reason: 'no_user_claim' });
    expect(await userOf('constructor.name', {})).toMatchObject({ reason: 'no_user_claim' });
    expect(await userOf('__proto__', {})).toMatchObject({ reason: 'no_user_claim' });
    for (const sub of ['a/b', '', 'x'.repeat(129), 'a\u0000b'])
      expect(await userOf(undefined, { sub })).toMatchObject({ reason: 'bad_user_claim' });
    expect(await userOf('app_metadata', { app_metadata: { uid: 'u' } })).toMatchObject({
      reason: 'bad_user_claim',
    });
    expect(await userOf(undefined, { sub: 1.5 as unknown as string })).toMatchObject({
      reason: 'bad_user_claim',
    });
  });
});
