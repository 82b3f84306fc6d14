import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createUnsubscribeLinks } from '../../../../src/notify/channels/email/unsubscribe-links.js';

const secret = 'a-secret-of-at-least-32-characters-0001';
const target = { project: 'dev', userId: 'u/42 é', category: 'news' };

describe('unsubscribe links', () => {
  it('gives the RFC 8058 headers: one https link and the one-click POST', () => {
    const links = createUnsubscribeLinks({
      baseUrl: 'https://mail.example.com/',
      secrets: [secret],
    });
    const headers = links.headers(target);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(headers['List-Unsubscribe']).toBe(`<${links.url(target)}>`);
    expect(links.url(target)).toMatch(
      /^https:\/\/mail\.example\.com\/v1\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
  });

  it('verifies its own tokens back to the target, and nothing else', () => {
    const links = createUnsubscribeLinks({ baseUrl: 'https://m.example', secrets: [secret] });
    const token = links.token(target);
    expect(links.verify(token)).toEqual(target);
    const [payload, signature] = token.split('.') as [string, string];
    const other = Buffer.from(JSON.stringify(['dev', 'u1', 'news'])).toString('base64url');
    for (const bad of [
      `${payload}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      `${other}.${signature}`,
      `${payload}.`,
      payload,
      '',
      `${'x'.repeat(3000)}.${signature}`,
    ])
      expect(links.verify(bad), bad.slice(0, 40)).toBeUndefined();
    const foreign = createUnsubscribeLinks({
      baseUrl: 'https://m.example',
      secrets: ['another-secret-of-32-characters-000002'],
    });
    expect(foreign.verify(token)).toBeUndefined();
  });

  it('refuses a well-signed payload that is not [project, user, category]', () => {
    const links = createUnsubscribeLinks({ baseUrl: 'https://m.example', secrets: [secret] });
    const signed = (claims: unknown) => {
      // Signed the way the links sign, to show the shape is checked after the signature.
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
    };
    expect(links.verify(signed(['dev', 'u1', 'news']))).toEqual({
      project: 'dev',
      userId: 'u1',
      category: 'news',
    });
    for (const claims of [['dev', 'u1'], ['dev', '', 'news'], { p: 'dev' }, ['dev', 'u1', 3]])
      expect(links.verify(signed(claims)), JSON.stringify(claims)).toBeUndefined();
  });

  it('verifies with every listed secret and signs with the first (a rotation)', () => {
    const old = createUnsubscribeLinks({ baseUrl: 'https://m.example', secrets: [secret] });
    const next = 'the-next-secret-of-32-characters-000003';
    const rotating = createUnsubscribeLinks({
      baseUrl: 'https://m.example',
      secrets: [next, secret],
    });
    const rotated = createUnsubscribeLinks({ baseUrl: 'https://m.example', secrets: [next] });
    const oldToken = old.token(target);
    expect(rotating.verify(oldToken)).toEqual(target);
    expect(rotated.verify(oldToken)).toBeUndefined();
    expect(rotated.verify(rotating.token(target))).toEqual(target);
  });
});
