import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

// Names that are Object.prototype members: a lookup on a plain object finds them everywhere.
const key = 'proto_admin_key_0123456789';
const stream = (sizeMs: number) => ({
  window: { kind: 'tumbling', sizeMs },
  aggregates: [{ name: 'n', fn: 'count' }],
});
const rule = (title: string) => ({
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'constructor', title, body: '' },
});
const config = {
  projects: [
    {
      id: 'constructor',
      keys: [{ key, scopes: ['admin', 'read'] }],
      streams: [{ name: 'constructor', ...stream(60_000) }],
      rules: [{ name: 'constructor', ...rule('From config') }],
    },
  ],
};

let server: ServerProcess;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  server = await startServer({ config });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

describe('streams and rules named constructor, in a project named constructor', () => {
  it('come from the configuration', async () => {
    expect(await api('GET', '/v1/streams/constructor')).toMatchObject({
      status: 200,
      body: { name: 'constructor', window: { sizeMs: 60_000 } },
    });
    expect(await api('GET', '/v1/rules/constructor')).toMatchObject({
      status: 200,
      body: { name: 'constructor', notification: { title: 'From config' } },
    });
  });

  it('are replaced and deleted through the API, and that survives a restart', async () => {
    expect((await api('PUT', '/v1/streams/constructor', stream(30_000))).status).toBe(200);
    expect((await api('PUT', '/v1/rules/constructor', rule('From the API'))).status).toBe(200);
    expect((await api('PUT', '/v1/rules/tostring', rule('Lowercase'))).status).toBe(200);
    expect((await api('DELETE', '/v1/rules/tostring')).status).toBe(204);

    await server.stop();
    server = await startServer({ config, dataDir: server.dataDir });
    expect(await api('GET', '/v1/streams/constructor')).toMatchObject({
      status: 200,
      body: { window: { sizeMs: 30_000 } },
    });
    expect(await api('GET', '/v1/rules/constructor')).toMatchObject({
      status: 200,
      body: { notification: { title: 'From the API' } },
    });
    expect((await api('GET', '/v1/rules/tostring')).status).toBe(404);

    expect((await api('DELETE', '/v1/streams/constructor')).status).toBe(204);
    expect((await api('DELETE', '/v1/rules/constructor')).status).toBe(204);
    await server.stop();
    server = await startServer({ config, dataDir: server.dataDir });
    expect(await api('GET', '/v1/streams/constructor')).toMatchObject({
      status: 404,
      body: { code: 'UNKNOWN_STREAM' },
    });
    expect(await api('GET', '/v1/rules/constructor')).toMatchObject({
      status: 404,
      body: { code: 'UNKNOWN_RULE' },
    });
  });

  it('other Object.prototype names are not valid names: refused by code, never found', async () => {
    for (const name of ['__proto__', 'toString', 'hasOwnProperty']) {
      expect(await api('PUT', `/v1/streams/${name}`, stream(60_000))).toMatchObject({
        status: 400,
        body: { code: 'BAD_STREAM' },
      });
      expect(await api('PUT', `/v1/rules/${name}`, rule('x'))).toMatchObject({
        status: 400,
        body: { code: 'BAD_RULE' },
      });
      expect((await api('GET', `/v1/streams/${name}`)).body).toMatchObject({
        code: 'UNKNOWN_STREAM',
      });
      expect((await api('GET', `/v1/rules/${name}`)).body).toMatchObject({ code: 'UNKNOWN_RULE' });
      expect((await api('DELETE', `/v1/streams/${name}`)).status).toBe(404);
    }
  });
});
