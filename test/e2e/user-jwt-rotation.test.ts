import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKey, signWith, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect } from '../helpers/socket-client.js';

/** The identity provider rotates its signing key while the real server runs. */
const issuer = 'https://idp.rotating.test/';
let jwks: JwksServer;
let server: ServerProcess;
const cooldownSeconds = 5; // 30 by default

beforeAll(async () => {
  jwks = await startJwksServer();
  server = await startServer({
    config: {
      projects: [
        {
          id: 'fans',
          keys: [{ key: 'rotation_admin_key_0123456789', scopes: ['admin'] }],
          auth: {
            jwt: {
              ...{ jwksUrl: jwks.url, issuer, allowInsecureLoopback: true },
              jwksCooldownSeconds: cooldownSeconds,
            },
          },
        },
      ],
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
  await jwks?.close();
});

const status = async (token: string) =>
  (
    await fetch(`${server.url}/v1/users/ada/preferences`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).status;

describe('JWKS key rotation', () => {
  it('takes the new key once the provider publishes it, at most one fetch per cooldown, and drops the retired one', async () => {
    const [old, next] = [await makeKey('2024-old', 'RS256'), await makeKey('2025-new', 'EdDSA')];
    jwks.serve([old]);
    const oldToken = await signWith(old, { iss: issuer, sub: 'ada' });
    expect(await status(oldToken)).toBe(200);
    expect(jwks.requests).toBe(1);
    // Cached: no fetch per token.
    expect(await status(oldToken)).toBe(200);
    expect(jwks.requests).toBe(1);

    jwks.serve([next]);
    const newToken = await signWith(next, { iss: issuer, sub: 'ada' });
    // An unknown kid fetches the set again, but at most once per cooldown
    // (`jwksCooldownSeconds`): tokens naming made-up kids cannot make the server hammer the
    // provider.
    const deadline = Date.now() + 3 * cooldownSeconds * 1000;
    let answer = await status(newToken);
    let polls = 1;
    while (answer !== 200 && Date.now() < deadline) {
      expect(answer).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await status(newToken);
      polls += 1;
    }
    expect(answer).toBe(200);
    expect(polls).toBeGreaterThan(5);
    expect(jwks.requests).toBe(2);

    // The new set no longer holds the retired key: its tokens are refused from now on.
    const refused = await fetch(`${server.url}/v1/users/ada/preferences`, {
      headers: { authorization: `Bearer ${oldToken}` },
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'BAD_TOKEN' });
    const socket = await connect(`${server.wsUrl}/v1/user?token=${newToken}`);
    expect((await socket.nextMessage()).t).toBe('counts');
    socket.close();
  });
});
