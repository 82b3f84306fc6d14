import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/scrape.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const dataDir = tempDir('backline-sealed-');
const key = `sealed_${randomBytes(12).toString('hex')}`;
const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
// Loopback push endpoints pass the outbound URL policy only with this setting.
const config = { push: { allowInsecureLoopback: true } };
const email = `fan-${randomUUID()}@example.com`;
const endpoint = `http://127.0.0.1:9/push/${randomUUID()}`;
afterAll(() => removeDir(dataDir));

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    p256dh: ecdh.getPublicKey().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  };
}

/** A server on the shared data folder with `env`; stopped (exit code 0) after `use`. */
async function withServer(env: Record<string, string>, use: (s: ServerProcess) => Promise<void>) {
  const server = await startServer({ dataDir, key, env, config });
  try {
    await use(server);
  } finally {
    expect(await server.stop()).toBe(0);
  }
}

const call = async (server: ServerProcess, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('encryption at rest over the real server', () => {
  it('seals emails and push subscriptions, rotates lazily, and refuses clearly without the key', async () => {
    const keys = browserKeys();
    await withServer({ BACKLINE_ENCRYPTION_KEY: oldKey }, async (server) => {
      expect(server.output()).not.toContain('BACKLINE_ENCRYPTION_KEY is not set');
      expect((await call(server, 'PUT', '/v1/users/u1/preferences', { email })).status).toBe(200);
      const subscribed = await call(server, 'POST', '/v1/users/u1/push-subscriptions', {
        endpoint,
        keys,
      });
      expect(subscribed.status).toBeLessThan(300);
    });
    const disk = readFileSync(join(dataDir, 'state', 'data.mdb')).toString('latin1');
    for (const plain of [email, endpoint, keys.p256dh, keys.auth])
      expect(disk).not.toContain(plain);

    // Rotation: the new key seals, the old one still opens; a read re-seals with the new key.
    await withServer(
      { BACKLINE_ENCRYPTION_KEYS: `k2:${newKey},default:${oldKey}` },
      async (server) => {
        const read = await call(server, 'GET', '/v1/users/u1/preferences');
        expect(read).toMatchObject({ status: 200, body: { email } });
        expect(await scrape(server.url, 'backline_state_resealed_total')).toBe(1);
      },
    );
    // Only the new key now: the record was re-sealed with it.
    await withServer({ BACKLINE_ENCRYPTION_KEYS: `k2:${newKey}` }, async (server) => {
      expect((await call(server, 'GET', '/v1/users/u1/preferences')).body.email).toBe(email);
    });

    // No key: a warning at start, and a clear, counted error for the sealed record.
    await withServer({}, async (server) => {
      expect(server.output()).toContain('BACKLINE_ENCRYPTION_KEY is not set');
      const refused = await call(server, 'GET', '/v1/users/u1/preferences');
      expect(refused).toMatchObject({ status: 500, body: { code: 'SEALED_UNREADABLE' } });
      const reason = { reason: 'no_key' };
      expect(await scrape(server.url, 'backline_state_unseal_failures_total', reason)).toBe(1);
      // The server carries on: other users' requests are answered.
      expect((await call(server, 'GET', '/v1/users/u2/preferences')).status).toBe(200);
    });
  }, 240_000);
});
