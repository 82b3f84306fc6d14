import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/scrape.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'ranges_key_0123456789abcdef';
const config = {
  projects: [
    {
      id: 'shop',
      keys: [{ key, scopes: ['read', 'ingest'] }],
      streams: [
        {
          name: 'sales',
          source: { types: ['sale'] },
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [{ name: 'n', fn: 'count' }],
        },
      ],
    },
  ],
};
const routes = [
  ['/v1/events/stats', '/v1/events/stats'],
  ['/v1/streams/sales/windows', '/v1/streams/:name/windows'],
  ['/v1/streams/sales/rollup', '/v1/streams/:name/rollup'],
] as const;
const lastMs = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

let server: ServerProcess;

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  server = await startServer({ config });
  const ts = Date.now() - 60_000;
  const events = [1, 2].map((i) => ({ id: `range-sale-${i}`, type: 'sale', ts }));
  const res = await fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

describe('time ranges of the query routes', () => {
  it('refuses out-of-range and backwards `from`/`to` with 400 BAD_QUERY, counted, not logged', async () => {
    const bad: Array<[string, string]> = [
      ['from=0&to=9999999999999999', '`to`'],
      [`from=0&to=${lastMs + 1}`, '`to`'],
      ['from=-1', '`from`'],
      ['from=1850-01-01T00:00:00Z&to=1900-01-01T00:00:00Z', '`from`'],
      ['from=1000&to=1000', '`from` must be before `to`'],
    ];
    for (const [path, route] of routes) {
      const before = await scrape(server.url, 'backline_http_requests_total', {
        route,
        status: '400',
      });
      for (const [query, names] of bad) {
        const { status, body } = await get(`${path}?${query}`);
        expect({ status, code: body.code }, `${path}?${query}`).toEqual({
          status: 400,
          code: 'BAD_QUERY',
        });
        expect(body.msg, `${path}?${query}`).toContain(names);
      }
      const after = await scrape(server.url, 'backline_http_requests_total', {
        route,
        status: '400',
      });
      expect(after - before, route).toBe(bad.length);
    }
    expect(server.output()).not.toMatch(/unexpected error/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers the whole allowed range, 1970 to the end of 2299', async () => {
    const all = `from=0&to=${lastMs}`;
    expect(await get(`/v1/events/stats?${all}`)).toMatchObject({
      status: 200,
      body: { total: 2, counts: { sale: 2 } },
    });
    expect(await get(`/v1/streams/sales/windows?${all}`)).toMatchObject({ status: 200 });
    expect(await get(`/v1/streams/sales/rollup?${all}&bucket=all`)).toMatchObject({
      status: 200,
      body: { rows: [{ key: '', values: { n: 2 } }] },
    });
  });

  it('reads a rollup range that starts after 2106 as after 2106 (no 32-bit wrap)', async () => {
    const from = Date.UTC(2107, 0, 1);
    expect(await get(`/v1/streams/sales/rollup?from=${from}&to=${lastMs}&bucket=all`)).toEqual({
      status: 200,
      body: { stream: 'sales', from, to: lastMs, bucket: 'all', rows: [] },
    });
  });
});
