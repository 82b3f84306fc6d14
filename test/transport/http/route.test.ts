import { unpack } from 'msgpackr';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacklineError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createOpenRoutes, createRoutes, keyAccess } from '../../../src/transport/http/route.js';
import { routeTable } from '../../../src/transport/route-table.js';
import { loadUws } from '../../../src/transport/uws.js';
import { listenOnLoopback } from '../../helpers/loopback-app.js';
import { auth } from '../../helpers/key-auth.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';

const { uws } = loadUws(true);
const metrics = createMetrics();
const log = pino({ level: 'silent' });
const pending = new Set<Promise<unknown>>();
let release = () => {};
let server: Awaited<ReturnType<typeof listenOnLoopback>>;
const app = uws.App();
let accessRuns = 0;

/** Routes of every style on a real uWS app. */
beforeAll(async () => {
  const deps = { auth, metrics, log, rateLimits: memoryRateLimits() };
  const route = createRoutes(app, deps);
  route('get', '/stats', ['read', 'ingest'], ({ reply, principal }) =>
    reply.json(200, { key: principal.keyId }),
  );
  route('put', '/things/:name', 'admin', async ({ reply, name, body }) => {
    reply.json(200, { name, bytes: (await body)?.length });
  });
  const owed = createRoutes(app, deps, {
    access: keyAccess(auth),
    msgpack: true,
    takesRequest: false,
    pending,
  });
  owed('post', '/slow', 'ingest', async ({ reply }) => {
    await new Promise<void>((resolve) => (release = resolve));
    reply.json(200, { done: true });
  });
  // An access that answers later, as one verifying a user's JWT does.
  const later = createRoutes(app, deps, {
    access: async (credentials, _param, level: 'later') => {
      accessRuns += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (credentials.credential !== 'letter') throw new BacklineError('BAD_TOKEN');
      const subject = { project: 'p', actor: 'user' };
      return { level, caller: { limit: 'user' as const, id: 'p/u' }, subject };
    },
  });
  later('post', '/later', 'later', async ({ reply, level, body }) => {
    reply.json(200, { level, body: (await body)?.toString() });
  });
  const open = createOpenRoutes(app, deps);
  open('get', '/open', async () => {
    throw new BacklineError('NOT_READY', 'not yet');
  });
  server = await listenOnLoopback(uws, app);
});
afterAll(() => server.close());

const call = async (path: string, init: RequestInit & { key?: string } = {}) => {
  const headers = { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}) };
  const res = await fetch(server.origin + path, {
    ...init,
    headers: { ...headers, ...init.headers },
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
};
const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString()) as unknown;

describe('createRoutes', () => {
  it('lets in a key holding any of the route’s scopes, and no other', async () => {
    expect(json((await call('/stats', { key: 'ingest' })).bytes)).toEqual({ key: 'ingest' });
    expect(json((await call('/stats', { key: 'admin' })).bytes)).toEqual({ key: 'admin' });
    expect(json((await call('/stats')).bytes)).toMatchObject({ code: 'UNAUTHORIZED' });
    const forbidden = await call('/things/a', { method: 'PUT', key: 'reader', body: 'x' });
    expect([forbidden.status, json(forbidden.bytes)]).toEqual([
      403,
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
  });

  it('hands the handler the decoded name and the body; a bad encoding is BAD_QUERY', async () => {
    const put = await call('/things/a%20b', { method: 'PUT', key: 'admin', body: '{"x":1}' });
    expect(json(put.bytes)).toEqual({ name: 'a b', bytes: 7 });
    const bad = await call('/things/%E0', { method: 'PUT', key: 'admin', body: '' });
    expect(json(bad.bytes)).toMatchObject({ code: 'BAD_QUERY' });
  });

  it('answers errors in MessagePack where the style says so and the client asks', async () => {
    const refused = await call('/slow', {
      method: 'POST',
      headers: { accept: 'application/msgpack' },
    });
    expect(refused.type).toBe('application/msgpack');
    expect(unpack(refused.bytes)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('keeps an owed answer in `pending` until it is sent', async () => {
    const answer = call('/slow', { method: 'POST', key: 'ingest', body: '' });
    await expect.poll(() => pending.size).toBe(1);
    release();
    expect(json((await answer).bytes)).toEqual({ done: true });
    await expect.poll(() => pending.size).toBe(0);
  });
});

describe('an asynchronous access', () => {
  it('lets the handler read the body once the caller is let in', async () => {
    const res = await call('/later', { method: 'POST', key: 'letter', body: 'hello' });
    expect(json(res.bytes)).toEqual({ level: 'later', body: 'hello' });
  });

  it('answers its refusal, the body dropped', async () => {
    const res = await call('/later', { method: 'POST', key: 'forged', body: 'x'.repeat(1000) });
    expect([res.status, json(res.bytes)]).toEqual([
      401,
      expect.objectContaining({ code: 'BAD_TOKEN' }),
    ]);
    expect(accessRuns).toBeGreaterThanOrEqual(2);
  });
});

describe('the route table', () => {
  it('records every route with its method, pattern, access level and audit, open ones as open', () => {
    expect(routeTable(app).routes).toEqual([
      { method: 'GET', pattern: '/stats', access: ['read', 'ingest'], audited: false },
      { method: 'PUT', pattern: '/things/:name', access: 'admin', audited: true },
      { method: 'POST', pattern: '/slow', access: 'ingest', audited: false },
      { method: 'POST', pattern: '/later', access: 'later', audited: false },
      { method: 'GET', pattern: '/open', access: 'open', audited: false },
    ]);
    expect(routeTable(uws.App()).routes).toEqual([]);
  });
});

describe('createOpenRoutes', () => {
  it('answers what a handler rejects with from the catalogue, counted under its route', async () => {
    const res = await call('/open');
    expect([res.status, json(res.bytes)]).toEqual([503, { code: 'NOT_READY', msg: 'not yet' }]);
    const counted = (await metrics.httpRequests.get()).values.find(
      (v) => v.labels.route === '/open',
    );
    expect(counted?.labels.status).toBe(503);
  });
});
