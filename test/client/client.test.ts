import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  type Client,
  type ClientOptions,
  type LiveWindow,
} from '../../src/client/index.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/eventually.js';
import { scrape } from '../helpers/scrape.js';
import { stats } from '../helpers/socket-client.js';

const key = 'client_test_key_0123456789';
const config = {
  projects: [
    {
      id: 'shop',
      keys: [{ key, scopes: ['ingest', 'read'] }],
      streams: [
        {
          name: 'clicks',
          source: { types: ['click'] },
          groupBy: ['props.page'],
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [
            { name: 'n', fn: 'count' },
            { name: 'ms', fn: 'sum', field: 'props.ms' },
          ],
          emit: { mode: 'early', everyMs: 100 },
        },
      ],
    },
  ],
};

const ingestFrames = (url: string) =>
  scrape(url, 'backline_ingest_frames_total', { transport: 'ws' });

let server: ServerProcess;
const clients: Client[] = [];
const open = (options: Partial<ClientOptions> = {}) => {
  const client = createClient({ url: server.url, key, WebSocket, storage: null, ...options });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  server = await startServer({ config });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server.stop();
  removeDir(server.dataDir);
});

describe('client library against the real server', () => {
  it('tracks, batches by size, and flush resolves once every event is stored', async () => {
    const client = open();
    const framesBefore = await ingestFrames(server.url);
    const ids = Array.from({ length: 250 }, (_, i) => client.track('signup', { i }));
    expect(new Set(ids).size).toBe(250);
    await client.flush();

    expect(client.stats()).toMatchObject({ tracked: 250, accepted: 250, queued: 0, rejected: 0 });
    expect((await stats(server.url, key)).counts.signup).toBe(250);
    // 100 + 100 + 50: the size bound made the frames, not one frame per event.
    expect((await ingestFrames(server.url)) - framesBefore).toBe(3);
  });

  it('sends a lone event after the batching delay, without flush', async () => {
    const client = open({ batch: { maxDelayMs: 50 } });
    client.track('lonely');
    await eventually(() => client.stats().accepted === 1, 5000, 'the lone event to be acked');
    expect((await stats(server.url, key)).counts.lonely).toBe(1);
  });

  it('splits frames that would pass maxFrameBytes', async () => {
    const client = open({ maxFrameBytes: 4096 });
    const framesBefore = await ingestFrames(server.url);
    for (let i = 0; i < 40; i++) client.track('big', { text: 'x'.repeat(500) });
    await client.flush();
    expect((await stats(server.url, key)).counts.big).toBe(40);
    expect((await ingestFrames(server.url)) - framesBefore).toBeGreaterThanOrEqual(5);
  });

  it('reports refused events and does not resend them', async () => {
    const rejected: string[] = [];
    const client = open({ onRejected: (_event, code) => rejected.push(code) });
    client.track('ancient', {}, { ts: Date.now() - 30 * 24 * 3600_000 });
    client.track('fine');
    await client.flush();
    expect(rejected).toEqual(['TS_OUT_OF_RANGE']);
    expect(client.stats()).toMatchObject({ accepted: 1, rejected: 1, queued: 0 });
  });

  it('subscribe delivers the snapshot and live windows of a stream', async () => {
    const client = open({ batch: { maxDelayMs: 20 } });
    const latest = new Map<string, LiveWindow>();
    client.subscribe('clicks', undefined, (w) => latest.set(`${w.start}|${w.key}`, w));
    const page = `p${Date.now()}`;
    for (let i = 0; i < 12; i++) client.track('click', { page, ms: i });
    await client.flush();

    const ofPage = () => [...latest.values()].filter((w) => w.key === page);
    const sum = (name: string) => ofPage().reduce((s, w) => s + (w.values[name] as number), 0);
    await eventually(() => sum('n') === 12, 10_000, 'windows counting 12 clicks');
    expect(sum('ms')).toBe(66);
    expect(ofPage().every((w) => w.stream === 'clicks' && w.rev >= 1)).toBe(true);
  });

  it('subscribes to one key only, and reports an unknown stream', async () => {
    const client = open({ batch: { maxDelayMs: 20 } });
    const seen: LiveWindow[] = [];
    const errors: string[] = [];
    client.subscribe('clicks', 'only-this', (w) => seen.push(w));
    client.subscribe('no_such_stream', undefined, () => undefined, {
      onError: (error) => errors.push(error.code),
    });
    client.track('click', { page: 'other', ms: 1 });
    client.track('click', { page: 'only-this', ms: 2 });
    await client.flush();
    await eventually(() => seen.length > 0 && errors.length > 0, 10_000, 'a window and an error');
    expect(errors).toEqual(['UNKNOWN_STREAM']);
    expect(seen.every((w) => w.key === 'only-this')).toBe(true);
  });
});
