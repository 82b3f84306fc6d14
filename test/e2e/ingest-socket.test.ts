import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/scrape.js';
import { connect, makeEvents, stats, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const ingestKey = 'ingest_key_0123456789abcdef';
const readKey = 'read_key_0123456789abcdef';
const config = {
  projects: [
    {
      id: 'shop',
      keys: [
        { key: ingestKey, scopes: ['ingest'] },
        { key: readKey, scopes: ['read'] },
      ],
    },
    { id: 'other', keys: [{ key: 'other_key_0123456789abcdef', scopes: ['ingest', 'read'] }] },
  ],
  limits: {
    maxFrameBytes: 64 * 1024,
    maxEventsPerFrame: 100,
    maxFutureMs: 60_000,
    maxPastMs: 3600_000,
    badFramesBeforeClose: 5,
  },
};

let server: ServerProcess;
let client: SocketClient;
let seq = 0;
let expectedStored = 0;

const send = (events: unknown[]) => {
  seq += 1;
  client.send({ t: 'events', seq, events });
  return seq;
};

beforeAll(async () => {
  server = await startServer({ config });
  client = await connect(`${server.wsUrl}/v1/ingest?key=${ingestKey}`);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  removeDir(server.dataDir);
});

describe('ingest socket', () => {
  it('acknowledges a batch once stored, and the events are then readable', async () => {
    const frameSeq = send(makeEvents(50));
    expect(await client.nextMessage()).toEqual({
      t: 'ack',
      seq: frameSeq,
      accepted: 50,
      duplicates: 0,
      rejected: [],
    });
    expectedStored += 50;
    expect((await stats(server.url, readKey)).counts['page.view']).toBe(50);
  });

  it('counts resent and repeated ids as duplicates and stores them once', async () => {
    const events = makeEvents(10, 'dup');
    send([...events, events[0]]);
    expect(await client.nextMessage()).toMatchObject({ accepted: 10, duplicates: 1 });
    send(events);
    expect(await client.nextMessage()).toMatchObject({ accepted: 0, duplicates: 10, rejected: [] });
    expectedStored += 10;
    expect((await stats(server.url, readKey)).total).toBe(expectedStored);
  });

  it('rejects bad events by index with a code and accepts the rest of the frame', async () => {
    const now = Date.now();
    const good = makeEvents(2, 'mixed');
    const frameSeq = send([
      good[0],
      { id: 'x1', type: 42, ts: now },
      { id: 'x2', type: 'a', ts: 'yesterday' },
      { id: 'x3', type: 'a', ts: now + 24 * 3600_000 },
      { id: 'x4', type: 'a', ts: now - 30 * 24 * 3600_000 },
      { type: 'a', ts: now },
      'not an event',
      { id: 'x5', type: 'a', ts: now, props: { a: { b: { c: { d: { e: { f: 1 } } } } } } },
      { id: 'x6', type: 'a', ts: now, props: 'text' },
      { id: 'y'.repeat(500), type: 'a', ts: now },
      good[1],
    ]);
    const ack = await client.nextMessage();
    expect(ack).toMatchObject({ t: 'ack', seq: frameSeq, accepted: 2, duplicates: 0 });
    const codes = (ack.rejected as Array<{ i: number; code: string }>).map(({ i, code }) => [
      i,
      code,
    ]);
    expect(codes).toEqual([
      [1, 'BAD_FIELD_TYPE'],
      [2, 'BAD_FIELD_TYPE'],
      [3, 'TS_OUT_OF_RANGE'],
      [4, 'TS_OUT_OF_RANGE'],
      [5, 'MISSING_FIELD'],
      [6, 'EVENT_NOT_A_MAP'],
      [7, 'PROPS_TOO_DEEP'],
      [8, 'BAD_FIELD_TYPE'],
      [9, 'FIELD_TOO_LONG'],
    ]);
    expectedStored += 2;
  });

  it('answers frame errors with a code and keeps the socket open', async () => {
    const cases: Array<[string, () => void, string]> = [
      [
        'random bytes',
        () => client.sendRaw(Buffer.from([0xc1, 0x17, 0x99, 0x02, 0xff, 0x00])),
        'BAD_MSGPACK',
      ],
      [
        'truncated msgpack',
        () => client.sendRaw(Buffer.from([0x82, 0xa1, 0x74, 0xa6, 0x65, 0x76])),
        'BAD_MSGPACK',
      ],
      ['a non-map', () => client.send([1, 2, 3]), 'NOT_A_MAP'],
      ['an unknown type', () => client.send({ t: 'nope', seq: 1 }), 'UNKNOWN_TYPE'],
      ['a text frame', () => client.sendRaw('{"t":"events"}', false), 'TEXT_FRAME'],
      ['no seq', () => client.send({ t: 'events', events: [] }), 'BAD_FRAME'],
      ['events not a list', () => client.send({ t: 'events', seq: 9, events: 'x' }), 'BAD_FRAME'],
      [
        'too many events',
        () => client.send({ t: 'events', seq: 10, events: makeEvents(101) }),
        'TOO_MANY_EVENTS',
      ],
      [
        'an oversized frame',
        () =>
          client.send({
            t: 'events',
            seq: 11,
            events: [{ id: 'big', type: 'a', ts: Date.now(), props: { s: 'x'.repeat(70_000) } }],
          }),
        'FRAME_TOO_LARGE',
      ],
    ];
    for (const [name, act, code] of cases) {
      act();
      const reply = await client.nextMessage();
      expect(reply, name).toMatchObject({ t: 'error', code });
      // A good frame after every bad one: the socket still works and the streak resets.
      const frameSeq = send(makeEvents(1, `after-${code}-${name.length}`));
      expect(await client.nextMessage(), name).toMatchObject({
        t: 'ack',
        seq: frameSeq,
        accepted: 1,
      });
      expectedStored += 1;
    }
    expect((await stats(server.url, readKey)).total).toBe(expectedStored);
  });

  it('carries seq on frame errors when the frame had one', async () => {
    client.send({ t: 'events', seq: 777, events: makeEvents(101) });
    expect(await client.nextMessage()).toMatchObject({
      t: 'error',
      code: 'TOO_MANY_EVENTS',
      seq: 777,
    });
  });

  it('refuses a missing or wrong key with 401 before the upgrade', async () => {
    await expect(connect(`${server.wsUrl}/v1/ingest`)).rejects.toThrow(/401/);
    await expect(connect(`${server.wsUrl}/v1/ingest?key=wrong_key_0123456789`)).rejects.toThrow(
      /401/,
    );
    const viaHeader = await connect(`${server.wsUrl}/v1/ingest`, {
      authorization: `Bearer ${ingestKey}`,
    });
    viaHeader.send({ t: 'events', seq: 1, events: makeEvents(1, 'bearer') });
    expect(await viaHeader.nextMessage()).toMatchObject({ t: 'ack', accepted: 1 });
    expectedStored += 1;
    viaHeader.close();
  });

  it('closes a socket that keeps sending garbage, with 1008', async () => {
    const noisy = await connect(`${server.wsUrl}/v1/ingest?key=${ingestKey}`);
    for (let i = 0; i < 5; i++) noisy.sendRaw(Buffer.from([0xc1]));
    const { code } = await noisy.closed;
    expect(code).toBe(1008);
  });

  it('counts a connection dropped for a frame past the hard limit (4 × maxFrameBytes)', async () => {
    const huge = await connect(`${server.wsUrl}/v1/ingest?key=${ingestKey}`);
    huge.sendRaw(Buffer.alloc(300 * 1024));
    // uWS drops it without a close frame; the count is what an operator sees.
    expect((await huge.closed).code).toBe(1006);
    expect(
      await scrape(server.url, 'backline_transport_closed_by_server_total', {
        reason: 'frame_too_large',
      }),
    ).toBe(1);
    expect(
      await scrape(server.url, 'backline_ingest_frame_errors_total', {
        transport: 'ws',
        code: 'FRAME_TOO_LARGE',
      }),
    ).toBe(2);
  });

  it('keeps projects apart', async () => {
    const other = await connect(`${server.wsUrl}/v1/ingest?key=other_key_0123456789abcdef`);
    other.send({ t: 'events', seq: 1, events: makeEvents(3, 'other', 'other.thing') });
    expect(await other.nextMessage()).toMatchObject({ accepted: 3 });
    other.close();
    const shop = await stats(server.url, readKey);
    expect(shop.total).toBe(expectedStored);
    expect(shop.counts['other.thing']).toBeUndefined();
    expect((await stats(server.url, 'other_key_0123456789abcdef')).total).toBe(3);
  });

  it('is still healthy after all of it', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
