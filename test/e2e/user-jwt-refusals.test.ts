import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeKey,
  signWith,
  startJwksServer,
  type JwksServer,
  type ProviderKey,
} from '../helpers/jwks-server.js';
import { scrape } from '../helpers/scrape.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { upgradeRefusal } from '../helpers/user-app.js';

/** Refused user JWTs over the real server: their codes, reasons and counts, a provider outage. */
const fansIssuer = 'https://idp.fans.test/';
const downIssuer = 'https://idp.down.test/';
let jwks: JwksServer;
let down: JwksServer;
let k1: ProviderKey;
let server: ServerProcess;

beforeAll(async () => {
  [jwks, down] = await Promise.all([startJwksServer(), startJwksServer()]);
  k1 = await makeKey('k1', 'ES256');
  jwks.serve([k1]);
  down.fail('503');
  const project = (id: string, jwksUrl: string, issuer: string) => ({
    id,
    keys: [{ key: `jwt_${id}_key_0123456789`, scopes: ['read'] }],
    auth: { jwt: { jwksUrl, issuer, audience: 'backline', allowInsecureLoopback: true } },
  });
  server = await startServer({
    config: {
      projects: [project('fans', jwks.url, fansIssuer), project('down', down.url, downIssuer)],
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
  await Promise.all([jwks?.close(), down?.close()]);
});

const fanToken = (sub: string, claims: Record<string, unknown> = {}) =>
  signWith(k1, { iss: fansIssuer, aud: 'backline', sub, ...claims });

async function api(method: string, path: string, bearer?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

describe('refused user tokens', () => {
  it('maps no token to UNAUTHORIZED and every bad one to BAD_TOKEN, counted by reason', async () => {
    expect(await upgradeRefusal(`${server.wsUrl}/v1/user`)).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED' },
    });
    expect((await api('GET', '/v1/users/ada/inbox')).json.code).toBe('UNAUTHORIZED');
    const stranger = await makeKey('k1', 'ES256'); // the provider's kid, another key
    const now = Math.floor(Date.now() / 1000);
    const bad: Array<[string, string]> = [
      [await fanToken('ada', { exp: now - 3600 }), 'expired'],
      [await fanToken('ada', { aud: 'someone-else' }), 'bad_audience'],
      [await signWith(stranger, { iss: fansIssuer, aud: 'backline', sub: 'ada' }), 'bad_signature'],
      [await fanToken('ada', { iss: 'https://evil.test/' }), 'unknown_issuer'],
      [await fanToken('a/b'), 'bad_user_claim'],
    ];
    for (const [token, reason] of bad) {
      const before = await scrape(server.url, 'backline_auth_user_tokens_refused_total', {
        reason,
      });
      const refusal = await upgradeRefusal(`${server.wsUrl}/v1/user?token=${token}`);
      expect([reason, refusal.status, refusal.body.code]).toEqual([reason, 401, 'BAD_TOKEN']);
      expect(refusal.body.msg).toContain(reason);
      const http = await api('GET', '/v1/users/ada/inbox', token);
      expect([reason, http.status, http.json.code]).toEqual([reason, 401, 'BAD_TOKEN']);
      const live = await upgradeRefusal(`${server.wsUrl}/v1/live?token=${token}`);
      expect([reason, live.status]).toEqual([reason, 401]);
      expect(await scrape(server.url, 'backline_auth_user_tokens_refused_total', { reason })).toBe(
        before + 3,
      );
    }
  });

  it('answers 503 AUTH_UNAVAILABLE while the identity provider is down, then lets the user in', async () => {
    const key = await makeKey('d1', 'RS256');
    down.serve([key]);
    const token = await signWith(key, { iss: downIssuer, aud: 'backline', sub: 'gus' });
    const refused = await api('GET', '/v1/users/gus/inbox', token);
    expect(refused).toMatchObject({ status: 503, json: { code: 'AUTH_UNAVAILABLE' } });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await upgradeRefusal(`${server.wsUrl}/v1/user?token=${token}`)).toMatchObject({
      status: 503,
      body: { code: 'AUTH_UNAVAILABLE' },
    });
    down.fail('ok');
    // No fetch for 5 s after a failure (jwksFailureCooldownMs): then the keys come.
    const deadline = Date.now() + 20_000;
    let status = 503;
    while (status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = (await api('GET', '/v1/users/gus/inbox', token)).status;
    }
    expect(status).toBe(200);
  });
});
