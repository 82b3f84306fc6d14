import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect } from '../helpers/socket-client.js';

/** API keys made, used, listed, rotated and revoked through `/v1/keys` on the real server. */
const shopAdmin = 'keys_shop_admin_0123456789';
const shopRead = 'keys_shop_read_0123456789';
const blogAdmin = 'keys_blog_admin_0123456789';
const blogRead = 'keys_blog_read_0123456789';
const config = {
  projects: [
    {
      id: 'shop',
      keys: [
        { key: shopAdmin, scopes: ['admin'], name: 'ops' },
        { key: shopRead, scopes: ['read'] },
      ],
    },
    {
      id: 'blog',
      keys: [
        { key: blogAdmin, scopes: ['admin'] },
        { key: blogRead, scopes: ['read'], name: 'leaked' },
      ],
    },
  ],
};
let server: ServerProcess;
const made: string[] = [];

beforeAll(async () => {
  server = await startServer({ config });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

async function api(method: string, path: string, key?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function makeKey(body: object, admin = shopAdmin) {
  const res = await api('POST', '/v1/keys', admin, body);
  expect(res.status).toBe(201);
  made.push(res.json.key as string);
  return res.json as { id: string; key: string; name: string; scopes: string[] };
}

let seq = 0;
const ingest = (key: string) => {
  seq += 1;
  return api('POST', '/v1/events', key, {
    events: [{ id: `k${seq}`, type: 'ping', ts: Date.now() }],
  });
};

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('/v1/keys', () => {
  it('makes a key for an admin, shown once, that works for its scopes only', async () => {
    expect((await api('POST', '/v1/keys', shopRead, { name: 'x', scopes: ['read'] })).status).toBe(
      403,
    );
    expect((await api('POST', '/v1/keys', undefined, { name: 'x', scopes: ['read'] })).status).toBe(
      401,
    );
    const ci = await makeKey({ name: 'ci', scopes: ['ingest'] });
    expect(ci).toMatchObject({ name: 'ci', scopes: ['ingest'], expiresAt: null, source: 'api' });
    expect(ci.key).toMatch(/^bl_/);
    expect((await ingest(ci.key)).json).toMatchObject({ accepted: 1 });
    expect((await api('GET', '/v1/streams', ci.key)).status).toBe(403);
    const bad = await api('POST', '/v1/keys', shopAdmin, { name: 'x', scopes: ['root'] });
    expect(bad).toMatchObject({ status: 400, json: { code: 'BAD_KEY_SPEC' } });
  });

  it('lists the project’s keys, configured ones too, never a secret, and only its own', async () => {
    const { id } = await makeKey({ name: 'dashboard', scopes: ['read'] });
    const { json } = await api('GET', '/v1/keys', shopAdmin);
    const keys = json.keys as Array<Record<string, unknown>>;
    expect(keys.map((k) => [k.name, k.source])).toEqual([
      ['ops', 'config'],
      [null, 'config'],
      ['ci', 'api'],
      ['dashboard', 'api'],
    ]);
    expect(keys.find((k) => k.name === 'dashboard')).toMatchObject({ id, scopes: ['read'] });
    const text = JSON.stringify(json);
    for (const secret of [shopAdmin, shopRead, ...made]) expect(text).not.toContain(secret);
    const blog = await api('GET', '/v1/keys', blogAdmin);
    expect((blog.json.keys as unknown[]).length).toBe(2);
    expect(JSON.stringify(blog.json)).not.toContain(id);
  });

  it('rotates without downtime: new key, both work, old one revoked at once, its socket closed', async () => {
    const old = await makeKey({ name: 'ingest-2024', scopes: ['ingest'] });
    const socket = await connect(`${server.wsUrl}/v1/ingest?key=${old.key}`);
    const fresh = await makeKey({ name: 'ingest-2025', scopes: ['ingest'] });
    expect((await ingest(old.key)).status).toBe(200);
    expect((await ingest(fresh.key)).status).toBe(200);

    expect((await api('DELETE', `/v1/keys/${old.id}`, blogAdmin)).status).toBe(404);
    expect((await ingest(old.key)).status).toBe(200);
    expect((await api('DELETE', `/v1/keys/${old.id}`, shopAdmin)).status).toBe(204);
    expect(await ingest(old.key)).toMatchObject({ status: 401, json: { code: 'UNAUTHORIZED' } });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'key revoked' });
    await expect(connect(`${server.wsUrl}/v1/ingest?key=${old.key}`)).rejects.toThrow('401');
    expect((await ingest(fresh.key)).status).toBe(200);
    expect(await api('DELETE', `/v1/keys/${old.id}`, shopAdmin)).toMatchObject({
      status: 404,
      json: { code: 'UNKNOWN_KEY' },
    });
  });

  it('refuses a key from its expiry on', async () => {
    const temp = await makeKey({ name: 'temp', scopes: ['ingest'], expiresAt: Date.now() + 1500 });
    expect((await ingest(temp.key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await ingest(temp.key)).status).toBe(401);
  });

  it('revokes a configured key too (a leaked one), until the configuration drops it', async () => {
    const { json } = await api('GET', '/v1/keys', blogAdmin);
    const leaked = (json.keys as Array<{ id: string; name: string }>).find(
      (k) => k.name === 'leaked',
    )!;
    expect((await api('GET', '/v1/streams', blogRead)).status).toBe(200);
    expect((await api('DELETE', `/v1/keys/${leaked.id}`, blogAdmin)).status).toBe(204);
    expect((await api('GET', '/v1/streams', blogRead)).status).toBe(401);
  });

  it('keeps keys hashed: no key in clear in the data folder or the logs, and all of it across a restart', async () => {
    const kept = await makeKey({ name: 'kept', scopes: ['ingest'] });
    await server.stop();
    const files = filesUnder(server.dataDir).filter((f) => !f.endsWith('test-config.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const key of made)
        expect([file, bytes.includes(Buffer.from(key.slice(3)))]).toEqual([file, false]);
    }
    for (const key of made) expect(server.output()).not.toContain(key.slice(3));

    server = await startServer({ config, dataDir: server.dataDir });
    expect((await ingest(kept.key)).status).toBe(200);
    expect((await ingest(made[0]!)).status).toBe(200); // `ci`
    expect((await api('GET', '/v1/streams', blogRead)).status).toBe(401); // still revoked
    expect((await api('GET', '/v1/streams', shopRead)).status).toBe(200);
  });
});

describe('the dev key', () => {
  it('works as before, is listed as configured, and can make keys', async () => {
    const dev = await startServer();
    try {
      const call = (path: string, init: RequestInit = {}, key = dev.key) =>
        fetch(`${dev.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });
      expect(dev.output()).toContain(`dev project key (env): ${dev.key}`);
      const listed = (await (await call('/v1/keys')).json()) as {
        keys: Array<Record<string, unknown>>;
      };
      expect(listed.keys).toEqual([
        expect.objectContaining({ source: 'config', scopes: ['ingest', 'read', 'admin'] }),
      ]);
      const res = await call('/v1/keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'app', scopes: ['read'] }),
      });
      const { key } = (await res.json()) as { key: string };
      expect((await call('/v1/streams', {}, key)).status).toBe(200);
      expect((await call('/v1/streams')).status).toBe(200);
    } finally {
      await dev.stop();
      removeDir(dev.dataDir);
    }
  });
});
