import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeEvents, stats } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'nospool_key_0123456789abcdef';
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    config: {
      projects: [{ id: 'p', keys: [{ key, scopes: ['ingest', 'read'] }] }],
      storage: { maxSpoolBytes: 0 },
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

it('storage.maxSpoolBytes 0 means no spool: a healthy ClickHouse takes every batch, no BACKPRESSURE', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: makeEvents(10, `nospool${i}`) }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 10 });
  }
  expect((await stats(server.url, key)).total).toBe(30);
  expect(readdirSync(join(server.dataDir, 'spool', 'events'))).toEqual([]);
});
