import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUserTokens, loadUserTokenSecret } from '../../src/auth/user-token.js';

const secret = randomBytes(32);

describe('createUserTokens', () => {
  it('issues a token that verifies to its project and user until it expires', () => {
    let now = 1_000_000;
    const tokens = createUserTokens(secret, () => now);
    const { token, expiresAt } = tokens.issue('dev', 'u42', 60_000);
    expect(expiresAt).toBe(1_060_000);
    expect(tokens.verify(token)).toEqual({ projectId: 'dev', userId: 'u42' });
    now = 1_059_999;
    expect(tokens.verify(token)).toEqual({ projectId: 'dev', userId: 'u42' });
    now = 1_060_000;
    expect(tokens.verify(token)).toBeUndefined();
  });

  it('refuses a token whose claims were changed', () => {
    const tokens = createUserTokens(secret);
    const { token } = tokens.issue('dev', 'u42', 60_000);
    const [payload, signature] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, u: 'admin' })).toString('base64url');
    expect(tokens.verify(`${forged}.${signature}`)).toBeUndefined();
    const later = Buffer.from(JSON.stringify({ ...claims, exp: 9e15 })).toString('base64url');
    expect(tokens.verify(`${later}.${signature}`)).toBeUndefined();
  });

  it('refuses a changed signature, another secret and malformed tokens', () => {
    const tokens = createUserTokens(secret);
    const { token } = tokens.issue('dev', 'u42', 60_000);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(tokens.verify(`${token.slice(0, -1)}${last}`)).toBeUndefined();
    expect(createUserTokens(randomBytes(32)).verify(token)).toBeUndefined();
    for (const bad of ['', 'x', '.', `${token}.x`, token.split('.')[0]!, `a.${'b'.repeat(43)}`])
      expect(tokens.verify(bad)).toBeUndefined();
    expect(tokens.verify(undefined)).toBeUndefined();
  });

  it('refuses a well-signed token without the claims it needs', () => {
    const tokens = createUserTokens(secret);
    const { token } = tokens.issue('dev', 'u42', 60_000);
    // Same secret, other claims: what a careless app backend might sign.
    const payload = Buffer.from(JSON.stringify({ p: 'dev', exp: Date.now() + 1000 })).toString(
      'base64url',
    );
    const signature = createHmac('sha256', secret).update(payload).digest('base64url');
    expect(tokens.verify(`${payload}.${signature}`)).toBeUndefined();
    expect(tokens.verify(token)).toBeDefined();
  });
});

describe('loadUserTokenSecret', () => {
  it('makes a 32-byte secret once, readable only by its owner, and reuses it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'backline-secret-')), 'data');
    const first = loadUserTokenSecret(dir);
    expect(first.length).toBe(32);
    const file = join(dir, 'user-token-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadUserTokenSecret(dir)).toEqual(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('base64url'));
    // Tokens signed before a restart still verify after it.
    const { token } = createUserTokens(first).issue('dev', 'u1', 60_000);
    expect(createUserTokens(loadUserTokenSecret(dir)).verify(token)?.userId).toBe('u1');
  });

  it('prefers a configured secret and refuses a short one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'backline-secret-'));
    const configured = 'a-configured-secret-of-enough-length-1234';
    expect(loadUserTokenSecret(dir, configured)).toEqual(Buffer.from(configured));
    expect(() => loadUserTokenSecret(dir, 'short')).toThrow(/at least 32/);
  });
});
