import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const adminOnly = 'scope_admin_key_0123456789';
const readOnly = 'scope_read_key_0123456789';
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    config: {
      projects: [
        {
          id: 'scopes',
          keys: [
            { key: adminOnly, scopes: ['admin'] },
            { key: readOnly, scopes: ['read'] },
          ],
        },
      ],
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

const call = (key: string, method: string, path: string, body?: object) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const reads = [
  '/v1/streams',
  '/v1/rules',
  '/v1/templates',
  '/v1/events/stats',
  '/v1/users/u1/inbox',
  '/v1/users/u1/decisions',
];

const adminWrites: Array<[method: string, path: string, body?: object]> = [
  ['PUT', '/v1/streams/s1', { window: { kind: 'tumbling', sizeMs: 1000 }, aggregates: [] }],
  ['DELETE', '/v1/streams/s1'],
  ['PUT', '/v1/rules/r1', {}],
  ['DELETE', '/v1/rules/r1'],
  ['PUT', '/v1/templates/t1', { subject: 's', html: 'h', text: 't' }],
  ['PUT', '/v1/templates-layout', { html: '{{{content}}}' }],
  ['POST', '/v1/users/u1/token', {}],
  ['PUT', '/v1/users/u1/preferences', {}],
  ['POST', '/v1/users/u1/inbox/read', { ids: [] }],
];

describe('one scope rule: admin implies read', () => {
  it('lets an admin-only key read streams, rules, templates, stats and users', async () => {
    for (const path of reads) {
      const res = await call(adminOnly, 'GET', path);
      expect([path, res.status]).toEqual([path, 200]);
    }
    const live = await connect(`${server.wsUrl}/v1/live?key=${adminOnly}`);
    live.close();
  });

  it('does not let admin ingest: that scope is given on purpose', async () => {
    const res = await call(adminOnly, 'POST', '/v1/events', { events: [] });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FORBIDDEN' });
    await expect(connect(`${server.wsUrl}/v1/ingest?key=${adminOnly}`)).rejects.toThrow('403');
  });

  it('still refuses a read-only key every admin write with 403 FORBIDDEN', async () => {
    for (const [method, path, body] of adminWrites) {
      const res = await call(readOnly, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(await res.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});
