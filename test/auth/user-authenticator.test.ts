import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jwtSettingsSchema, type JwtSettingsInput } from '../../src/auth/jwt-settings.js';
import { createUserAuthenticator } from '../../src/auth/user-authenticator.js';
import { createUserTokens } from '../../src/auth/user-token.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { makeKey, signWith, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

const now = 1_700_000_000_000;
const nowS = now / 1000;
const shop = { secret: 'shop-secret-'.padEnd(40, 's'), issuer: 'https://shop.example.com/auth/v1' };
const blog = { secret: 'blog-secret-'.padEnd(40, 'b'), issuer: 'https://blog.example.com/auth/v1' };

const settings = (input: JwtSettingsInput) => jwtSettingsSchema.parse(input);

/** An HS256 token signed with `secret`, issued now and valid for an hour unless `claims` say otherwise. */
function hs256(secret: string, claims: JWTPayload, alg = 'HS256'): Promise<string> {
  return new SignJWT({ iat: nowS, exp: nowS + 3600, ...claims })
    .setProtectedHeader({ alg })
    .sign(new TextEncoder().encode(secret));
}

function shopUsers(extra: Partial<JwtSettingsInput> = {}) {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const users = createUserAuthenticator({
    projects: [{ id: 'shop', jwt: settings({ ...shop, audience: 'authenticated', ...extra }) }],
    metrics,
    now: () => now,
  });
  return { users, registry };
}

const shopClaims = (sub = 'u1') => ({ iss: shop.issuer, aud: 'authenticated', sub });

describe('user JWTs with a shared secret (HS256)', () => {
  it('accepts a valid token as the user of its project', async () => {
    const { users } = shopUsers();
    expect(await users.check(await hs256(shop.secret, shopClaims()))).toEqual({
      ok: true,
      via: 'jwt',
      identity: { projectId: 'shop', userId: 'u1' },
      expiresAt: now + 3600_000,
    });
  });

  it('refuses an unknown or missing issuer, and a wrong or missing audience', async () => {
    const { users } = shopUsers();
    const cases: [JWTPayload, string][] = [
      [{ ...shopClaims(), iss: 'https://evil.example.com/auth/v1' }, 'unknown_issuer'],
      [{ aud: 'authenticated', sub: 'u1' }, 'unknown_issuer'],
      [{ ...shopClaims(), iss: `${shop.issuer}/` }, 'unknown_issuer'],
      [{ ...shopClaims(), aud: 'anon' }, 'bad_audience'],
      [{ iss: shop.issuer, sub: 'u1' }, 'bad_audience'],
    ];
    for (const [claims, reason] of cases)
      expect(await users.check(await hs256(shop.secret, claims))).toMatchObject({
        ok: false,
        reason,
      });
  });

  it('allows the leeway on exp and nbf, and no more', async () => {
    const { users } = shopUsers({ leewaySeconds: 30 });
    const at = async (claims: JWTPayload) =>
      users.check(await hs256(shop.secret, { ...shopClaims(), ...claims }));
    expect(await at({ exp: nowS - 10 })).toMatchObject({ ok: true });
    expect(await at({ exp: nowS - 31 })).toMatchObject({ ok: false, reason: 'expired' });
    expect(await at({ nbf: nowS + 10 })).toMatchObject({ ok: true });
    expect(await at({ nbf: nowS + 31 })).toMatchObject({ ok: false, reason: 'not_yet_valid' });
    expect(await at({ exp: undefined })).toMatchObject({ ok: false, reason: 'no_expiry' });
  });

  it('refuses alg none, algorithms not configured, and tokens signed with another secret', async () => {
    const { users } = shopUsers();
    const unsigned = new UnsecuredJWT({ ...shopClaims(), exp: nowS + 60 }).encode();
    expect(await users.check(unsigned)).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    const [header, payload] = (await hs256(shop.secret, shopClaims())).split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'NONE' })).toString('base64url');
    expect(await users.check(`${noneHeader}.${payload}.`)).toMatchObject({
      reason: 'alg_not_allowed',
    });
    expect(await users.check(`${header}.${payload}.`)).toMatchObject({ reason: 'bad_signature' });
    const hs512 = await hs256(shop.secret.repeat(2), shopClaims(), 'HS512');
    expect(await users.check(hs512)).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    const forged = await hs256('another-secret'.padEnd(40, 'x'), shopClaims());
    expect(await users.check(forged)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses malformed and oversized tokens unread', async () => {
    const { users } = shopUsers();
    for (const bad of ['x', 'a.b.c', 'a.b.c.d.e', '...', `${'e30'}.${'e30'}.x`])
      expect(await users.check(bad)).toMatchObject({ ok: false, reason: 'malformed' });
    const huge = await hs256(shop.secret, { ...shopClaims(), pad: 'p'.repeat(20_000) });
    expect(await users.check(huge)).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('counts refusals by reason, but not a missing token', async () => {
    const { users, registry } = shopUsers();
    expect(await users.check(undefined)).toMatchObject({ ok: false, reason: 'missing' });
    expect(await users.verify('')).toBeUndefined();
    await users.check(await hs256(shop.secret, { ...shopClaims(), aud: 'anon' }));
    await users.check(await hs256(shop.secret, { ...shopClaims(), exp: nowS - 3600 }));
    await users.check(await hs256(shop.secret, { ...shopClaims(), exp: nowS - 3600 }));
    const metric = await registry.getSingleMetric('backline_auth_user_tokens_refused_total')!.get();
    const counts = Object.fromEntries(metric.values.map((v) => [v.labels.reason, v.value]));
    expect(counts).toEqual({ bad_audience: 1, expired: 2 });
  });
});

describe('projects', () => {
  let server: JwksServer;
  beforeEach(async () => {
    server = await startJwksServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("never resolves a token of one project's issuer to another project", async () => {
    const key = await makeKey('k1', 'ES256');
    server.serve([key]);
    const users = createUserAuthenticator({
      projects: [
        { id: 'shop', jwt: settings(shop) },
        { id: 'blog', jwt: settings(blog) },
        { id: 'plain' },
        {
          id: 'idp',
          jwt: settings({
            jwksUrl: server.url,
            issuer: 'https://idp.example.com/',
            allowInsecureLoopback: true,
          }),
        },
      ],
      now: () => now,
    });
    const sub = 'u1';
    expect(await users.verify(await hs256(shop.secret, { iss: shop.issuer, sub }))).toEqual({
      projectId: 'shop',
      userId: sub,
    });
    expect(await users.verify(await hs256(blog.secret, { iss: blog.issuer, sub }))).toEqual({
      projectId: 'blog',
      userId: sub,
    });
    // Signed with blog's secret but claiming shop's issuer: checked with shop's secret only.
    expect(await users.check(await hs256(blog.secret, { iss: shop.issuer, sub }))).toMatchObject({
      reason: 'bad_signature',
    });
    // The JWKS project's key claiming shop's issuer: shop takes HS256 only.
    const viaIdp = await signWith(key, { iss: shop.issuer, sub }, now);
    expect(await users.check(viaIdp)).toMatchObject({ reason: 'alg_not_allowed' });
    expect(
      await users.verify(await signWith(key, { iss: 'https://idp.example.com/', sub }, now)),
    ).toEqual({
      projectId: 'idp',
      userId: sub,
    });
  });

  it('tells projects on one issuer apart by audience, and refuses a token valid for both', async () => {
    const key = await makeKey('k1');
    server.serve([key]);
    const idp = {
      jwksUrl: server.url,
      issuer: 'https://tenant.auth0.com/',
      allowInsecureLoopback: true,
    };
    const users = createUserAuthenticator({
      projects: [
        { id: 'shop', jwt: settings({ ...idp, audience: 'https://shop.example.com' }) },
        { id: 'blog', jwt: settings({ ...idp, audience: ['https://blog.example.com'] }) },
      ],
      now: () => now,
    });
    const token = (aud: string | string[]) =>
      signWith(key, { iss: idp.issuer, aud, sub: 'u1' }, now);
    expect(await users.verify(await token('https://blog.example.com'))).toEqual({
      projectId: 'blog',
      userId: 'u1',
    });
    expect(await users.verify(await token('https://shop.example.com'))).toEqual({
      projectId: 'shop',
      userId: 'u1',
    });
    expect(await users.check(await token('https://other.example.com'))).toMatchObject({
      reason: 'bad_audience',
    });
    const both = await token(['https://shop.example.com', 'https://blog.example.com']);
    expect(await users.check(both)).toMatchObject({ ok: false, reason: 'ambiguous_project' });
    expect(server.requests).toBe(1);
  });

  it('refuses at construction projects that share an issuer without distinct audiences', () => {
    const make = (a: JwtSettingsInput, b: JwtSettingsInput) => () =>
      createUserAuthenticator({
        projects: [
          { id: 'a', jwt: settings(a) },
          { id: 'b', jwt: settings(b) },
        ],
      });
    expect(make(shop, { ...blog, issuer: shop.issuer })).toThrow(/both need an audience/);
    expect(make({ ...shop, audience: 'x' }, { ...blog, issuer: shop.issuer })).toThrow(
      /both need an audience/,
    );
    expect(
      make({ ...shop, audience: ['x', 'y'] }, { ...blog, issuer: shop.issuer, audience: 'y' }),
    ).toThrow(/audience y/);
    expect(
      make({ ...shop, audience: 'x' }, { ...blog, issuer: shop.issuer, audience: 'y' }),
    ).not.toThrow();
  });
});

describe('backline user tokens beside JWTs', () => {
  it('keeps accepting them, and refuses a forged one', async () => {
    const legacyTokens = createUserTokens(randomBytes(32), () => now);
    const users = createUserAuthenticator({
      projects: [{ id: 'shop', jwt: settings(shop) }],
      legacyTokens,
      now: () => now,
    });
    const { token } = legacyTokens.issue('shop', 'u7', 60_000);
    expect(await users.check(token)).toEqual({
      ok: true,
      via: 'legacy',
      identity: { projectId: 'shop', userId: 'u7' },
    });
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await users.check(forged)).toMatchObject({ ok: false, reason: 'bad_legacy_token' });
    const withoutLegacy = createUserAuthenticator({ projects: [] });
    expect(await withoutLegacy.check(token)).toMatchObject({
      ok: false,
      reason: 'bad_legacy_token',
    });
  });
});
