import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClient,
  collectUntil,
  eventAt,
  isWindow,
  nextMatching,
  openProducer,
  windowAhead,
  windowOf,
  type LiveWindow,
  type Producer,
} from '../helpers/live-client.js';
import { scrape } from '../helpers/scrape.js';
import { connect, type Message, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const readKey = 'live_read_key_0123456789';
const ingestKey = 'live_ingest_key_0123456789';
const sizeMs = 1000;
const outOfOrderMs = 200;
const idleTickMs = 200;
const plays = {
  source: { types: ['play'] },
  window: { kind: 'tumbling', sizeMs },
  aggregates: [
    { name: 'n', fn: 'count' },
    { name: 'total', fn: 'sum', field: 'props.v' },
  ],
  outOfOrderMs,
  idleTickMs,
  allowedLatenessMs: 1000,
};
const idle = { sizeMs: 1000, outOfOrderMs: 300, idleTickMs: 400 };
const config = {
  projects: [
    {
      id: 'radio',
      keys: [
        { key: readKey, scopes: ['read'] },
        { key: ingestKey, scopes: ['ingest'] },
      ],
      streams: [
        {
          ...plays,
          name: 'plays_early',
          groupBy: ['props.g'],
          emit: { mode: 'early', everyMs: 100 },
        },
        { ...plays, name: 'plays_final', emit: { mode: 'final' } },
        {
          name: 'idle_pings',
          source: { types: ['ping'] },
          window: { kind: 'tumbling', sizeMs: idle.sizeMs },
          aggregates: [{ name: 'n', fn: 'count' }],
          outOfOrderMs: idle.outOfOrderMs,
          idleTickMs: idle.idleTickMs,
        },
      ],
    },
  ],
};

let server: ServerProcess;
let producer: Producer;
let dash: SocketClient;
// Each test times its events in a window after the previous test's, so no test's events
// land in a window another test already closed.
let lastStart = -Infinity;
let firstStart = 0;
let secondStart = 0;
const freshWindow = () => (lastStart = windowAhead(sizeMs, 1500, lastStart));
// Only how long to wait before calling a test failed: on a busy machine updates come late,
// never early; how fast they come is measured in bench/.
const patienceMs = 15_000;

const liveUrl = () => `${server.wsUrl}/v1/live?key=${readKey}`;
const play = (ts: number, g: string, v: number) => eventAt('play', ts, { g, v });

/** Subscribes and returns the snapshot, passing over updates of earlier subscriptions. */
async function subscribe(client: SocketClient, sub: Record<string, unknown>): Promise<Message> {
  client.send({ t: 'sub', ...sub });
  const { message } = await nextMatching(
    client,
    (m) => m.id === sub.id && (m.t === 'snapshot' || m.t === 'error'),
    patienceMs,
    `the answer to sub ${String(sub.id)}`,
  );
  expect(message).toMatchObject({ t: 'snapshot', id: sub.id });
  return message;
}

beforeAll(async () => {
  server = await startServer({ config });
  producer = await openProducer(server.wsUrl, ingestKey);
  dash = await connect(liveUrl());
});

afterAll(async () => {
  producer?.close();
  dash?.close();
  await server?.stop();
  removeDir(server.dataDir);
});

describe('live dashboards', () => {
  it('sends an empty snapshot, early updates with rising revs, then the exact final', async () => {
    expect(await subscribe(dash, { id: 'early', stream: 'plays_early' })).toEqual({
      t: 'snapshot',
      id: 'early',
      windows: [],
    });
    expect((await subscribe(dash, { id: 'final', stream: 'plays_final' })).windows).toEqual([]);
    // Three seconds ahead: room for three frames and their early updates before the window closes.
    const start = (firstStart = lastStart = windowAhead(sizeMs, 3000));

    await producer.send([1, 2, 3, 4, 5].map((v) => play(start + 100, 'a', v)));
    await producer.send([play(start + 200, 'b', 10), play(start + 300, 'b', 20)]);
    const first = await nextMatching(
      dash,
      isWindow('early', { key: 'a' }),
      patienceMs,
      'update of a',
    );
    expect(windowOf(first.message)).toEqual({
      stream: 'plays_early',
      start,
      end: start + sizeMs,
      key: 'a',
      values: { n: 5, total: 15 },
      final: false,
      rev: 1,
    });

    // Ten frames at once: early mode coalesces them into a few updates, not one per frame.
    await producer.burst(Array.from({ length: 10 }, () => [play(start + 400, 'a', 100)]));
    const { messages, found } = await collectUntil(
      dash,
      [
        isWindow('early', { key: 'a', final: true }),
        isWindow('early', { key: 'b', final: true }),
        isWindow('final'),
      ],
      patienceMs,
      'the finals',
    );
    // The watermark trails the newest event by outOfOrderMs, and the events were ahead of the clock.
    expect(Date.now()).toBeGreaterThanOrEqual(start + sizeMs + outOfOrderMs - 5);
    const updatesA = [first.message, ...messages]
      .filter(isWindow('early', { key: 'a' }))
      .map(windowOf);
    expect(updatesA.length).toBeLessThanOrEqual(6);
    expect(updatesA.at(-2)).toMatchObject({ final: false, values: { n: 15, total: 1015 } });
    expect(updatesA.at(-1)).toMatchObject({ final: true, values: { n: 15, total: 1015 } });
    const revs = updatesA.map((w) => w.rev);
    expect(revs).toEqual(revs.map((_, i) => i + 1));
    expect(windowOf(found[1]!)).toMatchObject({ values: { n: 2, total: 30 }, final: true });
    // Final mode: one message per window, the final one, with the exact totals over all keys.
    expect(windowOf(found[2]!)).toEqual({
      stream: 'plays_final',
      start,
      end: start + sizeMs,
      key: '',
      values: { n: 17, total: 1045 },
      final: true,
      rev: 1,
    });
    expect([...first.before, ...messages].filter(isWindow('final'))).toHaveLength(1);
    await dash.expectNoMessage(300);
  });

  it('sends a keyed subscription only the windows of its key', async () => {
    const snapshot = await subscribe(dash, { id: 'only-a', stream: 'plays_early', key: 'a' });
    expect(snapshot.windows).toEqual([
      expect.objectContaining({
        start: firstStart,
        key: 'a',
        final: true,
        values: { n: 15, total: 1015 },
      }),
    ]);
    const start = (secondStart = freshWindow());
    await producer.send([play(start, 'a', 1), play(start, 'b', 2), play(start, 'c', 3)]);
    const { messages } = await collectUntil(
      dash,
      [
        isWindow('only-a', { key: 'a', final: true, start }),
        isWindow('early', { key: 'b', final: true, start }),
        isWindow('early', { key: 'c', final: true, start }),
        isWindow('final', { start }),
      ],
      patienceMs,
      'finals of a, b and c',
    );
    // Any stray b or c update on `only-a` would have been published with those finals.
    await dash.expectNoMessage(200);
    const keyed = messages.filter((m) => m.id === 'only-a').map(windowOf);
    expect(keyed.length).toBeGreaterThan(0);
    expect(keyed.every((w) => w.key === 'a' && w.values.total === 1)).toBe(true);
    const unkeyed = messages.filter((m) => m.id === 'early').map((m) => windowOf(m).key);
    expect(new Set(unkeyed)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('gives a new subscription a snapshot of the recent windows, open ones included', async () => {
    const other = await connect(liveUrl());
    try {
      const all = (await subscribe(other, { id: 's1', stream: 'plays_early' }))
        .windows as LiveWindow[];
      expect(all.map((w) => [w.start, w.key, w.final, w.values])).toEqual([
        [firstStart, 'a', true, { n: 15, total: 1015 }],
        [firstStart, 'b', true, { n: 2, total: 30 }],
        [secondStart, 'a', true, { n: 1, total: 1 }],
        [secondStart, 'b', true, { n: 1, total: 2 }],
        [secondStart, 'c', true, { n: 1, total: 3 }],
      ]);
      expect(
        (await subscribe(other, { id: 's0', stream: 'plays_early', last: 0 })).windows,
      ).toEqual([]);
      const latest = (await subscribe(other, { id: 's2', stream: 'plays_early', last: 1 }))
        .windows as LiveWindow[];
      expect(latest.map((w) => [w.start, w.key])).toEqual([
        [secondStart, 'a'],
        [secondStart, 'b'],
        [secondStart, 'c'],
      ]);

      const start = freshWindow();
      await producer.send([play(start, 'z', 7)]);
      await nextMatching(
        other,
        isWindow('s1', { key: 'z', final: false }),
        patienceMs,
        'early update of z',
      );
      const open = (await subscribe(other, { id: 's3', stream: 'plays_early', key: 'z' })).windows;
      expect(open).toEqual([
        expect.objectContaining({ start, key: 'z', final: false, values: { n: 1, total: 7 } }),
      ]);
    } finally {
      await closeClient(other);
    }
  });

  it('stops updates after unsub', async () => {
    const client = await connect(liveUrl());
    try {
      await subscribe(client, { id: 'gone', stream: 'plays_final' });
      await subscribe(client, { id: 'kept', stream: 'plays_final' });
      const before = await scrape(server.url, 'backline_live_subscriptions');
      client.send({ t: 'unsub', id: 'gone' });
      expect(await client.nextMessage()).toEqual({ t: 'unsubscribed', id: 'gone' });
      expect(await scrape(server.url, 'backline_live_subscriptions')).toBe(before - 1);

      const start = freshWindow();
      await producer.send([play(start, 'q', 4)]);
      const kept = await nextMatching(
        client,
        isWindow('kept', { start, final: true }),
        patienceMs,
        'final on the kept subscription',
      );
      expect(kept.before.filter((m) => m.id === 'gone')).toEqual([]);
      await client.expectNoMessage(300);
    } finally {
      await closeClient(client);
    }
  });

  it('answers bad messages with error codes and keeps the socket open', async () => {
    const client = await connect(liveUrl());
    const cases: Array<[string, () => void, Record<string, unknown>]> = [
      [
        'unknown stream',
        () => client.send({ t: 'sub', id: 'x', stream: 'nope' }),
        { code: 'UNKNOWN_STREAM', id: 'x' },
      ],
      ['no stream', () => client.send({ t: 'sub', id: 'y' }), { code: 'BAD_FRAME', id: 'y' }],
      ['no id', () => client.send({ t: 'sub', stream: 'plays_final' }), { code: 'BAD_FRAME' }],
      [
        'key not text',
        () => client.send({ t: 'sub', id: 'k', stream: 'plays_final', key: 5 }),
        { code: 'BAD_FRAME', id: 'k' },
      ],
      [
        'negative last',
        () => client.send({ t: 'sub', id: 'l', stream: 'plays_final', last: -1 }),
        { code: 'BAD_FRAME', id: 'l' },
      ],
      ['unsub without id', () => client.send({ t: 'unsub' }), { code: 'BAD_FRAME' }],
      ['unknown t', () => client.send({ t: 'hello', id: 'h' }), { code: 'UNKNOWN_TYPE', id: 'h' }],
      ['no t', () => client.send({ id: 'n' }), { code: 'BAD_FRAME' }],
      [
        'random bytes',
        () => client.sendRaw(Buffer.from([0xc1, 0x17, 0x99])),
        { code: 'BAD_MSGPACK' },
      ],
      ['a list', () => client.send([1, 2]), { code: 'NOT_A_MAP' }],
      ['a text frame', () => client.sendRaw('{"t":"sub"}', false), { code: 'TEXT_FRAME' }],
      [
        'a frame of 100 KiB',
        () => client.send({ t: 'sub', id: 'big', stream: 'x'.repeat(100 * 1024) }),
        { code: 'FRAME_TOO_LARGE' },
      ],
    ];
    try {
      for (const [name, act, error] of cases) {
        act();
        expect(await client.nextMessage(), name).toMatchObject({ t: 'error', ...error });
        // A good message between bad ones resets the streak that would close the socket.
        await subscribe(client, { id: 'ok', stream: 'plays_final', last: 0 });
      }
      for (const code of ['UNKNOWN_STREAM', 'FRAME_TOO_LARGE']) {
        expect(
          await scrape(server.url, 'backline_ingest_frame_errors_total', {
            transport: 'live',
            code,
          }),
        ).toBe(1);
      }
    } finally {
      await closeClient(client);
    }
  });

  it('refuses subscriptions past the per-socket limit, but not a replaced one', async () => {
    const client = await connect(liveUrl());
    try {
      for (let i = 0; i < 100; i++)
        client.send({ t: 'sub', id: i, stream: 'plays_final', last: 0 });
      for (let i = 0; i < 100; i++)
        expect(await client.nextMessage()).toMatchObject({ t: 'snapshot', id: i });
      client.send({ t: 'sub', id: 100, stream: 'plays_final' });
      expect(await client.nextMessage()).toMatchObject({
        t: 'error',
        code: 'TOO_MANY_SUBSCRIPTIONS',
        id: 100,
      });
      await subscribe(client, { id: 7, stream: 'plays_early', last: 0 });
    } finally {
      await closeClient(client);
    }
  });

  it('closes a socket that sends only garbage with 1008', async () => {
    const noisy = await connect(liveUrl());
    for (let i = 0; i < 10; i++) noisy.sendRaw(Buffer.from([0xc1]));
    expect((await noisy.closed).code).toBe(1008);
  });

  it('refuses a missing or wrong key with 401 and a key without read with 403', async () => {
    await expect(connect(`${server.wsUrl}/v1/live`)).rejects.toThrow(/401/);
    await expect(connect(`${server.wsUrl}/v1/live?key=wrong_key_0123456789`)).rejects.toThrow(
      /401/,
    );
    await expect(connect(`${server.wsUrl}/v1/live?key=${ingestKey}`)).rejects.toThrow(/403/);
    const viaHeader = await connect(`${server.wsUrl}/v1/live`, {
      authorization: `Bearer ${readKey}`,
    });
    await subscribe(viaHeader, { id: 'h', stream: 'plays_final', last: 0 });
    await closeClient(viaHeader);
  });

  it('closes the last window of an idle stream by the wall clock', async () => {
    await subscribe(dash, { id: 'idle', stream: 'idle_pings' });
    const ts = Date.now();
    await producer.send([eventAt('ping', ts)]);
    const end = Math.floor(ts / idle.sizeMs) * idle.sizeMs + idle.sizeMs;
    // With no event after this one, only the clock can move the watermark past `end`.
    const { message } = await nextMatching(
      dash,
      isWindow('idle'),
      patienceMs,
      'the idle window to close',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(end + idle.outOfOrderMs - 5);
    expect(windowOf(message)).toMatchObject({ end, final: true, values: { n: 1 } });
  });
});
