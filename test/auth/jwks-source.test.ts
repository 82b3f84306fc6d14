import { createServer } from 'node:net';
import { SignJWT, exportSPKI, importJWK, type CryptoKey } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jwtSettingsSchema } from '../../src/auth/jwt-settings.js';
import {
  createUserAuthenticator,
  type UserAuthenticatorOptions,
} from '../../src/auth/user-authenticator.js';
import {
  makeKey,
  signWith,
  startJwksServer,
  type AsymmetricAlg,
  type JwksServer,
} from '../helpers/jwks-server.js';

const issuer = 'https://tenant.example.com/';
const audience = 'https://api.example.com';
let server: JwksServer;

beforeEach(async () => {
  server = await startJwksServer();
});
afterEach(async () => {
  await server.close();
});

function authenticatorFor(
  url: string,
  options: Partial<UserAuthenticatorOptions> = {},
  extra: { now?: () => number; warnings?: unknown[] } = {},
) {
  const jwt = jwtSettingsSchema.parse({
    jwksUrl: url,
    issuer,
    audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    allowInsecureLoopback: true,
  });
  const log = { warn: (...args: unknown[]) => void extra.warnings?.push(args) };
  return createUserAuthenticator(
    { projects: [{ id: 'shop', jwt }], log, ...(extra.now && { now: extra.now }) },
    options,
  );
}

const claims = (sub: string) => ({ iss: issuer, aud: audience, sub });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('JWTs verified against a JWKS URL', () => {
  it.each<AsymmetricAlg>(['RS256', 'ES256', 'EdDSA'])('verifies %s tokens', async (alg) => {
    const key = await makeKey(`k-${alg}`, alg);
    server.serve([key]);
    const users = authenticatorFor(server.url);
    const result = await users.check(await signWith(key, claims('u1')));
    expect(result).toMatchObject({
      ok: true,
      via: 'jwt',
      identity: { projectId: 'shop', userId: 'u1' },
    });
  });

  it('follows a key rotation: new kid refetched, a dropped key refused after the next refetch', async () => {
    const [a, b, c] = await Promise.all([makeKey('a'), makeKey('b', 'ES256'), makeKey('c')]);
    server.serve([a]);
    // No cooldown: each unknown kid refetches, so the rotation is followed step by step.
    const users = authenticatorFor(server.url, { jwksCooldownMs: 0 });
    const tokenA = await signWith(a, claims('ua'));
    expect(await users.verify(tokenA)).toEqual({ projectId: 'shop', userId: 'ua' });
    expect(server.requests).toBe(1);

    server.serve([a, b]);
    expect(await users.verify(await signWith(b, claims('ub')))).toEqual({
      projectId: 'shop',
      userId: 'ub',
    });
    expect(server.requests).toBe(2);

    server.serve([b]);
    // Still cached: the provider's drop is not seen until something refetches.
    expect(await users.verify(tokenA)).toEqual({ projectId: 'shop', userId: 'ua' });
    expect(server.requests).toBe(2);

    const unknown = await users.check(await signWith(c, claims('uc')));
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(server.requests).toBe(3);
    expect(await users.check(tokenA)).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(await users.verify(await signWith(b, claims('ub')))).toEqual({
      projectId: 'shop',
      userId: 'ub',
    });
  });

  it('fetches no more than once per cooldown, however many unknown kids arrive', async () => {
    const a = await makeKey('a');
    server.serve([a]);
    const users = authenticatorFor(server.url, { jwksCooldownMs: 60_000 });
    expect(await users.verify(await signWith(a, claims('ua')))).toBeDefined();
    // Signed by a known key but naming kids the set does not hold.
    const strangers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signWith(a, claims('x'), Date.now(), { kid: `x${i}` })),
    );
    for (const token of strangers)
      expect(await users.check(token)).toMatchObject({ ok: false, reason: 'unknown_key' });
    const burst = await Promise.all(strangers.map((token) => users.check(token)));
    expect(burst.every((r) => !r.ok && r.reason === 'unknown_key')).toBe(true);
    expect(server.requests).toBe(1);
  });

  it('lets one concurrent burst of unknown kids refetch once when the cooldown has passed', async () => {
    const a = await makeKey('a');
    server.serve([a]);
    const cooldownMs = 200;
    const users = authenticatorFor(server.url, { jwksCooldownMs: cooldownMs });
    expect(await users.verify(await signWith(a, claims('ua')))).toBeDefined();
    const stranger = await signWith(await makeKey('x'), claims('x'));
    for (const round of [1, 2]) {
      await sleep(cooldownMs + 100);
      const burst = await Promise.all(Array.from({ length: 25 }, () => users.check(stranger)));
      expect(burst.every((r) => !r.ok && r.reason === 'unknown_key')).toBe(true);
      expect(server.requests).toBe(1 + round);
    }
  });

  it('refuses an HS256 token signed with the public key as its secret (key confusion)', async () => {
    const a = await makeKey('a');
    server.serve([a]);
    const users = authenticatorFor(server.url);
    const pem = await exportSPKI(
      (await importJWK(a.jwk, 'RS256', { extractable: true })) as CryptoKey,
    );
    const forged = await new SignJWT({
      ...claims('admin'),
      exp: Math.floor(Date.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'HS256', kid: 'a' })
      .sign(new TextEncoder().encode(pem));
    expect(await users.check(forged)).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
  });
});

describe('an unavailable JWKS', () => {
  it('refuses jwks_unavailable while the provider answers 503, fetching once per failure cooldown', async () => {
    const a = await makeKey('a');
    server.serve([a]);
    server.fail('503');
    let now = 1_000_000_000_000;
    const warnings: unknown[] = [];
    const users = authenticatorFor(
      server.url,
      { jwksFailureCooldownMs: 5_000 },
      { now: () => now, warnings },
    );
    const token = await signWith(a, claims('ua'), now);
    for (let i = 0; i < 10; i++)
      expect(await users.check(token)).toMatchObject({ ok: false, reason: 'jwks_unavailable' });
    const burst = await Promise.all(Array.from({ length: 10 }, () => users.check(token)));
    expect(burst.every((r) => !r.ok && r.reason === 'jwks_unavailable')).toBe(true);
    expect(server.requests).toBe(1);
    expect(warnings).toHaveLength(1);

    now += 5_000;
    expect(await users.check(token)).toMatchObject({ ok: false, reason: 'jwks_unavailable' });
    expect(server.requests).toBe(2);

    server.fail('ok');
    now += 5_000;
    expect(await users.verify(token)).toEqual({ projectId: 'shop', userId: 'ua' });
    expect(server.requests).toBe(3);
  });

  it('keeps verifying cached keys while a refetch fails, without fetching again', async () => {
    const [a, b] = await Promise.all([makeKey('a'), makeKey('b')]);
    server.serve([a]);
    const now = 1_000_000_000_000;
    const users = authenticatorFor(server.url, { jwksCooldownMs: 0 }, { now: () => now });
    const tokenA = await signWith(a, claims('ua'), now);
    expect(await users.verify(tokenA)).toBeDefined();
    server.fail('503');
    const tokenB = await signWith(b, claims('ub'), now);
    expect(await users.check(tokenB)).toMatchObject({ ok: false, reason: 'jwks_unavailable' });
    expect(server.requests).toBe(2);
    expect(await users.verify(tokenA)).toEqual({ projectId: 'shop', userId: 'ua' });
    expect(await users.check(tokenB)).toMatchObject({ ok: false, reason: 'jwks_unavailable' });
    expect(server.requests).toBe(2);
  });

  it.each(['not-json', 'not-a-jwks', 'hang'] as const)(
    'refuses jwks_unavailable when the server answers %s',
    async (fault) => {
      const a = await makeKey('a');
      server.serve([a]);
      server.fail(fault);
      const users = authenticatorFor(server.url, { jwksTimeoutMs: 300 });
      expect(await users.check(await signWith(a, claims('ua')))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
      expect(server.requests).toBe(1);
    },
  );

  it('refuses jwks_unavailable when nothing listens on the JWKS port', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const a = await makeKey('a');
    const users = authenticatorFor(`http://127.0.0.1:${closedPort}/.well-known/jwks.json`);
    expect(await users.check(await signWith(a, claims('ua')))).toMatchObject({
      ok: false,
      reason: 'jwks_unavailable',
    });
  });
});
