import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * What the `fuzz` bench scenario (bench/fuzz.ts) found to hurt the real server, done once
 * more here: the sender gets its error code, and the server keeps answering it and others.
 */
let server: ServerProcess;
const clients: SocketClient[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

async function open(path: string): Promise<SocketClient> {
  const client = await connect(`${server.wsUrl}${path}?key=${server.key}`);
  clients.push(client);
  return client;
}

// `{t:"x", id:[[[…1]]]}` nested `depth` deep, written by hand: msgpackr reads 3,000 levels
// but cannot write them back (its encoder recurses deeper per level than its decoder).
function deepIdFrame(depth: number): Buffer {
  const head = Buffer.from([0x82, 0xa1, 0x74, 0xa1, 0x78, 0xa2, 0x69, 0x64]);
  return Buffer.concat([head, Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
}

describe('live socket', () => {
  it('answers a message whose `id` cannot be sent back without repeating it', async () => {
    const hostile = await open('/v1/live');
    hostile.sendRaw(deepIdFrame(3000));
    const error = await hostile.nextMessage();
    expect(error).toMatchObject({ t: 'error', code: 'UNKNOWN_TYPE' });
    expect(error).not.toHaveProperty('id');

    hostile.send({ t: 'unsub', id: 'after' });
    expect(await hostile.nextMessage()).toEqual({ t: 'unsubscribed', id: 'after' });
    const other = await open('/v1/live');
    other.send({ t: 'unsub', id: 7 });
    expect(await other.nextMessage()).toEqual({ t: 'unsubscribed', id: 7 });
  });

  it('answers an id past 64 bits (msgpackr’s bigint extension) without repeating it', async () => {
    const bigints = new Packr({ useBigIntExtension: true, useRecords: false });
    const hostile = await open('/v1/live');
    hostile.sendRaw(bigints.pack({ t: 'x', id: 851208847585983392208n }));
    const error = await hostile.nextMessage();
    expect(error).toMatchObject({ t: 'error', code: 'UNKNOWN_TYPE' });
    expect(error).not.toHaveProperty('id');

    hostile.sendRaw(bigints.pack({ t: 'x', id: 2n ** 64n - 1n }));
    expect(await hostile.nextMessage()).toMatchObject({ code: 'UNKNOWN_TYPE', id: 2n ** 64n - 1n });
  });
});

describe('live socket, a stream closed to its subscribers', () => {
  const api = (method: string, path: string, body?: object) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
  const spec = (access: string) => ({
    access,
    source: { types: ['vote'] },
    window: { kind: 'tumbling', sizeMs: 60_000 },
    aggregates: [{ name: 'votes', fn: 'count' }],
  });

  it('ends every subscription it shuts out and keeps the socket: the client sent nothing bad', async () => {
    expect((await api('PUT', '/v1/streams/fans', spec('users'))).status).toBe(200);
    const { token } = (await (await api('POST', '/v1/users/fan/token')).json()) as {
      token: string;
    };
    const fan = await connect(`${server.wsUrl}/v1/live?token=${token}`);
    clients.push(fan);
    const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const id of ids) {
      fan.send({ t: 'sub', id, stream: 'fans' });
      expect(await fan.nextMessage()).toMatchObject({ t: 'snapshot', id });
    }
    expect((await api('PUT', '/v1/streams/fans', spec('private'))).status).toBe(200);
    for (const id of ids) expect(await fan.nextMessage()).toMatchObject({ code: 'FORBIDDEN', id });

    fan.send({ t: 'unsub', id: 'after' });
    expect(await fan.nextMessage()).toEqual({ t: 'unsubscribed', id: 'after' });
  });
});

describe('ingest socket', () => {
  it('refuses props of shared references before walking them (BAD_MSGPACK)', async () => {
    // 1000^4 array slots in 24 KB: validating them would hold the event loop for hours.
    let level: unknown = 1;
    for (let i = 0; i < 4; i++) level = Array.from({ length: 1000 }, () => level);
    const event = { id: 'dag', type: 'fuzz', ts: Date.now(), props: { d: level } };
    const packr = new Packr({ structuredClone: true, useRecords: false });
    const ingest = await open('/v1/ingest');
    ingest.sendRaw(packr.pack({ t: 'events', seq: 1, events: [event] }));
    expect(await ingest.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_MSGPACK' });

    ingest.send({ t: 'events', seq: 2, events: [{ ...event, props: { d: 1 } }] });
    expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', seq: 2, accepted: 1 });
  });
});
