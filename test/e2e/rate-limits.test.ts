import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/scrape.js';
import { connect, makeEvents, stats, type Message } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const keys = {
  fleet: 'fleet_key_0123456789abcdef', // eight sockets
  twin: 'twin_key_0123456789abcdef', // the fleet's project, its own budget
  shared: 'shared_key_0123456789abcdef', // a socket and HTTP
  reader: 'reader_key_0123456789abcdef',
  otherReader: 'other_reader_key_0123456789',
  admin: 'admin_key_0123456789abcdef',
};
const limits = {
  keyEventsPerSecond: 1000,
  keyBurstEvents: 1000,
  keyRequestsPerSecond: 5,
  keyBurstRequests: 10,
  userRequestsPerSecond: 2,
  userBurstRequests: 5,
};
const both = ['ingest', 'read'];
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    config: {
      projects: [
        {
          id: 'fleet',
          keys: [
            { key: keys.fleet, scopes: both },
            { key: keys.twin, scopes: both },
          ],
        },
        { id: 'shared', keys: [{ key: keys.shared, scopes: both }] },
        {
          id: 'reads',
          streams: [
            {
              name: 'views',
              window: { kind: 'tumbling', sizeMs: 60_000 },
              aggregates: [{ name: 'n', fn: 'count' }],
            },
          ],
          keys: [
            { key: keys.reader, scopes: ['read'] },
            { key: keys.otherReader, scopes: ['read'] },
            { key: keys.admin, scopes: ['admin'] },
          ],
        },
      ],
      limits,
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

/** The most a bucket lets through from full over `seconds`: its burst plus the refill. */
const allowance = (burst: number, perSecond: number, seconds: number) =>
  burst + perSecond * seconds;
const secondsSince = (start: number) => (performance.now() - start) / 1000;
const sum = (messages: Message[]) => messages.reduce((n, m) => n + (m.accepted as number), 0);

/** Sends `frames` frames of 100 events at once on a socket of `key`; answers every reply. */
async function blast(key: string, frames: number, prefix: string): Promise<Message[]> {
  const client = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
  for (let f = 0; f < frames; f++)
    client.send({ t: 'events', seq: f + 1, events: makeEvents(100, `${prefix}-${f}`) });
  const answers: Message[] = [];
  for (let f = 0; f < frames; f++) answers.push(await client.nextMessage());
  client.close();
  return answers;
}

const postEvents = (key: string, count: number) =>
  fetch(`${server.url}/v1/events?key=${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: makeEvents(count) }),
  });

/**
 * Calls `request` in waves of ten at once until one answers 429 (at most `max` calls): the
 * bodies of the 200s. Waves, not one by one, so a slow machine cannot refill the bucket
 * between calls as fast as it is spent.
 */
async function until429(request: () => Promise<Response>, max: number) {
  const served: unknown[] = [];
  for (let sent = 0; sent < max; sent += 10) {
    const answers = await Promise.all(Array.from({ length: 10 }, request));
    for (const res of answers.filter((r) => r.status !== 429)) {
      expect(res.status).toBe(200);
      served.push(await res.json());
    }
    const refused = answers.find((r) => r.status === 429);
    if (refused) return { served, refused };
  }
  throw new Error(`no 429 after ${max} requests`);
}

async function expect429(res: Response) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await res.json()) as { code: string; retryAfterMs: number };
  expect(body.code).toBe('RATE_LIMITED');
  expect(body.retryAfterMs).toBeGreaterThan(0);
}

describe('events per key', () => {
  it('gives eight sockets of one key together what its bucket holds, RATE_LIMITED for the rest', async () => {
    const start = performance.now();
    const answers = (
      await Promise.all(Array.from({ length: 8 }, (_, s) => blast(keys.fleet, 20, `fleet-${s}`)))
    ).flat();
    const elapsed = secondsSince(start);
    const acks = answers.filter((m) => m.t === 'ack');
    const limited = answers.filter((m) => m.t === 'error');
    for (const ack of acks) expect(ack).toMatchObject({ accepted: 100, rejected: [] });
    for (const error of limited) {
      expect(error).toMatchObject({ code: 'RATE_LIMITED', seq: expect.any(Number) });
      expect(error.retryAfterMs).toBeGreaterThan(0);
    }
    expect(acks.length + limited.length).toBe(160);
    // 16,000 offered; the key's bucket starts full and frames of 100 divide it exactly.
    const accepted = sum(acks);
    expect(accepted).toBeGreaterThanOrEqual(limits.keyBurstEvents);
    expect(accepted).toBeLessThanOrEqual(
      allowance(limits.keyBurstEvents, limits.keyEventsPerSecond, elapsed),
    );
    expect((await stats(server.url, keys.fleet)).total).toBe(accepted);
    expect(
      await scrape(server.url, 'backline_ingest_rate_limited_total', {
        limit: 'key',
        transport: 'ws',
      }),
    ).toBe(limited.length);

    // Another key of the same project has its own budget, untouched by the fleet's.
    const twin = await blast(keys.twin, 10, 'twin');
    expect(twin.map((m) => m.accepted)).toEqual(Array(10).fill(100));
  });

  it('takes HTTP batches from the budget the key’s sockets spent', async () => {
    const start = performance.now();
    const socket = await blast(keys.shared, 10, 'shared');
    expect(sum(socket)).toBe(limits.keyBurstEvents);
    // 10,000 events asked for at once: far more than the key's bucket can refill while they
    // are answered, however slow this machine is, so some must be refused.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postEvents(keys.shared, 500)),
    );
    const elapsed = secondsSince(start);
    const refused = answers.filter((res) => res.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    await expect429(refused[0]!);
    const served: unknown[] = [];
    for (const res of answers.filter((r) => r.status !== 429)) {
      expect(res.status).toBe(200);
      served.push(await res.json());
    }
    expect(sum(socket) + sum(served as Message[])).toBeLessThanOrEqual(
      allowance(limits.keyBurstEvents, limits.keyEventsPerSecond, elapsed),
    );
    expect(
      await scrape(server.url, 'backline_ingest_rate_limited_total', {
        limit: 'key',
        transport: 'http',
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('requests per key and per user', () => {
  it('answers a read route 429 past the key’s limit, live messages too; other keys go on', async () => {
    const start = performance.now();
    const streams = (key: string) => fetch(`${server.url}/v1/streams?key=${key}`);
    const { served: listed, refused } = await until429(() => streams(keys.reader), 100);
    await expect429(refused);

    // The live socket takes from the same budget: past it a `sub` gets RATE_LIMITED.
    const live = await connect(`${server.wsUrl}/v1/live?key=${keys.reader}`);
    for (let id = 0; id < 30; id++) live.send({ t: 'sub', id, stream: 'views' });
    const answers: Message[] = [];
    for (let id = 0; id < 30; id++) answers.push(await live.nextMessage());
    live.close();
    const elapsed = secondsSince(start);
    const limited = answers.filter((m) => m.t === 'error');
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited)
      expect(error).toMatchObject({ code: 'RATE_LIMITED', id: expect.any(Number) });
    const subscribed = answers.filter((m) => m.t === 'snapshot').length;
    expect(subscribed + limited.length).toBe(30);
    expect(listed.length + subscribed).toBeLessThanOrEqual(
      allowance(limits.keyBurstRequests, limits.keyRequestsPerSecond, elapsed),
    );

    expect((await streams(keys.otherReader)).status).toBe(200);
    for (const transport of ['http', 'live'])
      expect(
        await scrape(server.url, 'backline_transport_requests_rate_limited_total', {
          limit: 'key',
          transport,
        }),
      ).toBeGreaterThanOrEqual(1);
  });

  it('limits a user token’s requests over HTTP and the user socket; other users go on', async () => {
    const tokenOf = async (user: string) => {
      const res = await fetch(`${server.url}/v1/users/${user}/token?key=${keys.admin}`, {
        method: 'POST',
      });
      return ((await res.json()) as { token: string }).token;
    };
    const [ann, bob] = [await tokenOf('ann'), await tokenOf('bob')];
    const inbox = (user: string, token: string) =>
      fetch(`${server.url}/v1/users/${user}/inbox?token=${token}`);
    const start = performance.now();
    const { served, refused } = await until429(() => inbox('ann', ann), 50);
    expect(served.length).toBeLessThanOrEqual(
      allowance(limits.userBurstRequests, limits.userRequestsPerSecond, secondsSince(start)),
    );
    await expect429(refused);
    expect((await inbox('bob', bob)).status).toBe(200);

    const socket = await connect(`${server.wsUrl}/v1/user?token=${ann}`);
    expect(await socket.nextMessage()).toMatchObject({ t: 'counts' });
    for (let i = 0; i < 20; i++) socket.send({ t: 'resume' });
    const answers: Message[] = [];
    for (let i = 0; i < 20; i++) answers.push(await socket.nextMessage());
    socket.close();
    expect(answers).toContainEqual(expect.objectContaining({ t: 'error', code: 'RATE_LIMITED' }));
    expect(
      await scrape(server.url, 'backline_transport_requests_rate_limited_total', {
        limit: 'user',
      }),
    ).toBeGreaterThanOrEqual(2);
  });
});
