import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacklineError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createRoutes } from '../../../src/transport/http/route.js';
import type { StreamOutcome } from '../../../src/transport/http/stream-body.js';
import { loadUws } from '../../../src/transport/uws.js';
import { eventually } from '../../helpers/eventually.js';
import { auth } from '../../helpers/key-auth.js';
import { listenOnLoopback } from '../../helpers/loopback-app.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';

const { uws } = loadUws(true);
const chunkBytes = 64 * 1024;
const chunks = 2000; // 128 MB: far more than socket buffers hold
let server: Awaited<ReturnType<typeof listenOnLoopback>>;
let port = 0;

/** What one source did: chunks pulled, whether it was ended, and how the stream ended. */
const sources = new Map<string, { pulled: number; ended: boolean; outcome?: StreamOutcome }>();

async function* source(name: string, failAt?: number) {
  const own = { pulled: 0, ended: false };
  sources.set(name, own);
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  try {
    for (let i = 0; i < chunks; i++) {
      if (i === failAt) throw new Error('storage went away');
      own.pulled += 1;
      yield chunk;
    }
  } finally {
    own.ended = true;
  }
}

beforeAll(async () => {
  const app = uws.App();
  const route = createRoutes(app, {
    auth,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    rateLimits: memoryRateLimits(),
  });
  route('get', '/stream/:name', 'read', async ({ reply, name, info }) => {
    const failAt = info.query.get('failAt');
    if (failAt === '0') throw new BacklineError('BAD_QUERY', 'refused before any byte');
    const ended = await reply.pipe(
      200,
      'text/plain',
      source(name, failAt ? Number(failAt) : undefined),
    );
    sources.get(name)!.outcome = ended.outcome;
  });
  server = await listenOnLoopback(uws, app);
  port = Number(new URL(server.origin).port);
});
afterAll(() => server.close());

/** A GET over a raw socket, so the test decides when the client reads. */
function get(path: string) {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = 0;
  const parts: Buffer[] = [];
  socket.on('data', (data: Buffer) => {
    received += data.length;
    if (parts.length < 4) parts.push(data);
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer reader\r\n\r\n`);
  return {
    socket,
    closed,
    received: () => received,
    head: () => Buffer.concat(parts).toString('latin1'),
  };
}

describe('streamed bodies', () => {
  it('pull the next chunk only as fast as the client reads', async () => {
    const client = get('/stream/slow');
    await eventually(() => client.received() > 0, 10_000, 'the first bytes');
    client.socket.pause();
    // The source stops once socket buffers are full and uWS holds what it could not send.
    let last = -1;
    await eventually(
      async () => {
        const now = sources.get('slow')!.pulled;
        const still = now === last;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return still && sources.get('slow')!.pulled === now;
      },
      20_000,
      'the source to stop being pulled',
    );
    expect(sources.get('slow')!.pulled).toBeLessThan(chunks / 4);
    client.socket.resume();
    await eventually(() => sources.get('slow')!.outcome === 'complete', 60_000, 'the whole body');
    expect(client.head()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await eventually(() => client.received() > chunks * chunkBytes, 60_000, 'every byte');
    client.socket.destroy();
  });

  it('end the source when the client goes away', async () => {
    const client = get('/stream/gone');
    await eventually(() => client.received() > chunkBytes, 10_000, 'some bytes');
    client.socket.destroy();
    await eventually(() => sources.get('gone')!.ended, 10_000, 'the source ended');
    await eventually(() => sources.get('gone')!.outcome === 'aborted', 10_000, 'aborted');
    expect(sources.get('gone')!.pulled).toBeLessThan(chunks);
  });

  it('close the connection when the source fails after the status went out', async () => {
    const client = get('/stream/broken?failAt=3');
    await client.closed;
    expect(sources.get('broken')!.outcome).toBe('failed');
    expect(client.head()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // Cut short: three chunks at most and never the last, empty chunk of a complete body.
    expect(client.received()).toBeLessThan(4 * chunkBytes + 1024);
  });

  it('answer an error the source raises before its first chunk', async () => {
    const res = await fetch(`${server.origin}/stream/early?failAt=0`, {
      headers: { authorization: 'Bearer reader' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_QUERY' });
  });
});
