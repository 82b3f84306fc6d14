import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvents, stats } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    config: undefined,
    env: { BACKLINE_DEV_KEY: 'http_dev_key_0123456789' },
    key: 'http_dev_key_0123456789',
  });
});

afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

const post = (body: string | Buffer, headers: Record<string, string>, key = server.key) =>
  fetch(`${server.url}/v1/events`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${key}`, ...headers },
  });

describe('POST /v1/events', () => {
  it('takes a JSON batch and answers the ack counts', async () => {
    const events = makeEvents(20, 'json');
    const res = await post(
      JSON.stringify({ events: [...events, { id: 'bad', type: 1, ts: Date.now() }] }),
      {
        'content-type': 'application/json',
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      accepted: 20,
      duplicates: 0,
      rejected: [{ i: 20, code: 'BAD_FIELD_TYPE', msg: expect.any(String) }],
    });
  });

  it('takes a MessagePack batch and answers in MessagePack when asked', async () => {
    const events = makeEvents(30, 'mp', 'vote.cast');
    const res = await post(pack({ events }), {
      'content-type': 'application/msgpack',
      accept: 'application/msgpack',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    expect(unpack(Buffer.from(await res.arrayBuffer()))).toEqual({
      accepted: 30,
      duplicates: 0,
      rejected: [],
    });
    const again = await post(pack({ events }), { 'content-type': 'application/msgpack' });
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 30, rejected: [] });
  });

  it('stores what it acknowledged, per type', async () => {
    const { counts, total } = await stats(server.url, server.key);
    expect(counts).toEqual({ 'page.view': 20, 'vote.cast': 30 });
    expect(total).toBe(50);
  });

  it('answers bad bodies with their code and status', async () => {
    const cases: Array<[string | Buffer, Record<string, string>, number, string]> = [
      ['{"events":[', { 'content-type': 'application/json' }, 400, 'BAD_JSON'],
      [Buffer.from([0xc1, 0x00]), { 'content-type': 'application/msgpack' }, 400, 'BAD_MSGPACK'],
      ['[1,2]', { 'content-type': 'application/json' }, 400, 'NOT_A_MAP'],
      ['{"events":5}', { 'content-type': 'application/json' }, 400, 'BAD_FRAME'],
      ['x', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        JSON.stringify({ events: makeEvents(1001) }),
        { 'content-type': 'application/json' },
        413,
        'TOO_MANY_EVENTS',
      ],
      [
        'x'.repeat(1024 * 1024 + 10),
        { 'content-type': 'application/json' },
        413,
        'FRAME_TOO_LARGE',
      ],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await post(body, headers);
      expect(res.status, code).toBe(status);
      expect(await res.json(), code).toMatchObject({ code });
    }
  });

  it('refuses a missing or wrong key with 401', async () => {
    const res = await fetch(`${server.url}/v1/events`, { method: 'POST', body: '{"events":[]}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(
      (await post('{"events":[]}', { 'content-type': 'application/json' }, 'nope_0123456789abcdef'))
        .status,
    ).toBe(401);
    expect((await fetch(`${server.url}/v1/events/stats`)).status).toBe(401);
  });

  it('answers unknown routes with 404 and a code', async () => {
    const res = await fetch(`${server.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});
