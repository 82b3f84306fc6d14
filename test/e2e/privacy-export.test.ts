import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const admin = `admin_${randomBytes(12).toString('hex')}`;
const reader = `read_${randomBytes(12).toString('hex')}`;
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    key: admin,
    config: {
      projects: [
        {
          id: 'p1',
          keys: [
            { key: admin, scopes: ['admin', 'ingest'] },
            { key: reader, scopes: ['read'] },
          ],
        },
      ],
    },
  });
});
afterAll(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

async function api(method: string, path: string, credential?: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json');
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: json ? JSON.parse(text) : undefined,
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as { kind: string; item: Record<string, unknown> } & Record<
          string,
          unknown
        >,
    );

async function ingest(events: object[]) {
  for (let i = 0; i < events.length; i += 1000) {
    const sent = await api('POST', '/v1/events', admin, { events: events.slice(i, i + 1000) });
    expect(sent.status).toBe(200);
  }
}

const exportedTotal = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('backline_privacy_exported_items_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
};

describe('GDPR export', () => {
  it('streams every item of the user as NDJSON, sized up front, to an admin key or the user', async () => {
    const ts = Date.now();
    await ingest([
      { id: 'x1', type: 'page.view', ts, anonymousId: 'anon-x' },
      { id: 'x2', type: 'user.signup', ts: ts + 1, userId: 'fan-x', anonymousId: 'anon-x' },
      { id: 'y1', type: 'user.signup', ts, userId: 'fan-y' },
    ]);
    await api('PUT', '/v1/users/fan-x/preferences', admin, { email: 'fan-x@example.com' });
    const token = (await api('POST', '/v1/users/fan-x/token', admin, {})).body.token as string;
    const otherToken = (await api('POST', '/v1/users/fan-y/token', admin, {})).body.token as string;

    for (const credential of [admin, token]) {
      const res = await api('GET', '/v1/users/fan-x/export', credential);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-ndjson');
      const [head, ...items] = lines(res.text);
      expect(head).toMatchObject({ kind: 'export', userId: 'fan-x', items: 3 });
      expect(head!.counts).toMatchObject({ event: 2, preferences: 1, inbox: 0, decision: 0 });
      expect(Number(res.headers.get('x-export-items'))).toBe(items.length);
      expect(items.map((line) => [line.kind, line.item.id ?? line.item.email])).toEqual([
        ['preferences', 'fan-x@example.com'],
        ['event', 'x1'], // before sign-in, by the anonymous id seen with the user
        ['event', 'x2'],
      ]);
    }
    const refused = [
      [otherToken, 403, 'FORBIDDEN'],
      [reader, 403, 'FORBIDDEN'],
      [undefined, 401, 'UNAUTHORIZED'],
    ] as const;
    for (const [credential, status, code] of refused) {
      const res = await api('GET', '/v1/users/fan-x/export', credential);
      expect([res.status, res.body?.code]).toEqual([status, code]);
    }
  });

  it('writes no faster than the client reads', async () => {
    const ts = Date.now();
    const padding = 'x'.repeat(400);
    const events = Array.from({ length: 40_000 }, (_, i) => ({
      id: `slow-${i}`,
      type: 'page.view',
      ts: ts + i,
      userId: 'fan-slow',
      props: { padding },
    }));
    await ingest(events);
    const before = await exportedTotal();
    let received = '';
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/v1/users/fan-slow/export`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      req.on('response', resolve).on('error', reject).end();
    });
    expect(res.headers['x-export-items']).toBe(String(events.length));
    res.pause(); // a reader that stops reading: socket buffers fill, then the server waits
    let previous = -1;
    let stalled = 0;
    await eventually(
      async () => {
        const now = (await exportedTotal()) - before;
        stalled = now === previous ? stalled + 1 : 0;
        previous = now;
        return stalled >= 3;
      },
      30_000,
      'the export to stop while its reader does',
      300,
    );
    expect(previous).toBeLessThan(events.length);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (received += chunk));
    const ended = new Promise((resolve) => res.on('end', resolve));
    res.resume();
    await ended;
    const [head, ...items] = lines(received);
    expect(head).toMatchObject({ kind: 'export', items: events.length });
    expect(items).toHaveLength(events.length);
    expect(items.at(-1)!.item.id).toBe('slow-39999');
  });

  it('erases for an admin key only, and takes the user’s events again afterwards', async () => {
    const token = (await api('POST', '/v1/users/fan-x/token', admin, {})).body.token as string;
    expect((await api('DELETE', '/v1/users/fan-x', token)).body.code).toBe('FORBIDDEN');
    expect((await api('DELETE', '/v1/users/fan-x', reader)).body.code).toBe('FORBIDDEN');
    const erased = await api('DELETE', '/v1/users/fan-x', admin);
    expect(erased.status).toBe(200);
    expect(erased.body.erased).toMatchObject({ events: 2, state: 1 });
    expect(lines((await api('GET', '/v1/users/fan-x/export', admin)).text)[0]).toMatchObject({
      items: 0,
    });
    // Nothing blocks the user afterwards: a new event is stored like any other.
    await ingest([{ id: 'x3', type: 'page.view', ts: Date.now(), userId: 'fan-x' }]);
    const after = lines((await api('GET', '/v1/users/fan-x/export', admin)).text);
    expect(after.slice(1).map((line) => line.item.id)).toEqual(['x3']);
    // Erasing again is harmless, and the other user's data is untouched.
    expect((await api('DELETE', '/v1/users/fan-x', admin)).body.erased).toMatchObject({
      events: 1,
    });
    expect(lines((await api('GET', '/v1/users/fan-y/export', admin)).text)[0]).toMatchObject({
      items: 1,
    });
  });
});
