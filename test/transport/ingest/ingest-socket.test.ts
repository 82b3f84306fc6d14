import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { WebSocket, us_listen_socket } from 'uWebSockets.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKeyRegistry } from '../../../src/auth/key-registry.js';
import { configSchema } from '../../../src/compose/config.js';
import { createDedupWindow } from '../../../src/ingest/dedup-window.js';
import { createIngest } from '../../../src/ingest/ingest-service.js';
import { createLocalAcceptance } from '../../../src/ingest/local-acceptance.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createBatchWriter } from '../../../src/storage/batch-writer.js';
import { openChdb } from '../../../src/storage/chdb-client.js';
import { insertInto, type ClickHouse } from '../../../src/storage/clickhouse.js';
import type { EventRow } from '../../../src/model/event.js';
import { openSpool } from '../../../src/storage/spool.js';
import { registerIngestSocket } from '../../../src/transport/ingest/ingest-socket.js';
import { createSocketWriter, type SocketState } from '../../../src/transport/socket-writer.js';
import { loadUws } from '../../../src/transport/uws.js';
import { connect, makeEvents, type SocketClient } from '../../helpers/socket-client.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';

const key = 'ingest-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'backline-ingest-socket-'));
const metrics = createMetrics();
const { uws } = loadUws(false);
let ch: ClickHouse;
let listenSocket: us_listen_socket;
let client: SocketClient;
let stopWriter: () => Promise<void>;

/**
 * The ingest socket on a real uWS app over a real batch writer whose storage is broken for
 * real: ClickHouse has no `events` table (never migrated) and the spool folder has become a
 * regular file, so neither can take a batch.
 */
beforeAll(async () => {
  const config = configSchema.parse({
    projects: [{ id: 'p1', keys: [{ key, scopes: ['ingest'] }] }],
  });
  const log = pino({ level: 'silent' });
  ch = openChdb(join(dir, 'ch'));
  const spoolDir = join(dir, 'spool');
  const spool = openSpool<EventRow>(spoolDir);
  rmSync(spoolDir, { recursive: true });
  writeFileSync(spoolDir, 'not a folder');
  const writer = createBatchWriter<EventRow>(
    { table: 'events', insert: insertInto<EventRow>(ch, 'events'), spool, metrics, log },
    { flushIntervalMs: 1 },
  );
  stopWriter = () => writer.stop();
  const ingest = createIngest({
    acceptance: createLocalAcceptance({
      writer,
      dedup: createDedupWindow({ windowMs: 60_000, maxIds: 1000 }),
    }),
    metrics,
    limits: config.limits,
  });
  const app = uws.App();
  const sockets = new Set<WebSocket<SocketState>>();
  const deps = { auth: createKeyRegistry(config.projects), limits: config.limits, metrics, log };
  registerIngestSocket(
    app,
    {
      ...deps,
      ingest,
      writer: createSocketWriter({ app, metrics }),
      rateLimits: memoryRateLimits(config.limits),
    },
    sockets,
  );
  listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) =>
      socket ? resolve(socket) : reject(new Error('listen')),
    ),
  );
  const port = uws.us_socket_local_port(listenSocket as never);
  client = await connect(`ws://127.0.0.1:${port}/v1/ingest?key=${key}`);
});

afterAll(async () => {
  client?.close();
  uws.us_listen_socket_close(listenSocket);
  await stopWriter?.();
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('answers STORAGE_FAILED to a frame neither ClickHouse nor the spool took, and counts its rows lost', async () => {
  client.send({ t: 'events', seq: 1, events: makeEvents(3, 'lost') });
  expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'STORAGE_FAILED', seq: 1 });
  const { values } = await metrics.rowsLost.get();
  expect(values).toEqual([
    expect.objectContaining({ labels: { table: 'events', reason: 'spool_error' }, value: 3 }),
  ]);
  // The ids were forgotten, so the resent frame is tried again rather than acked as duplicates.
  client.send({ t: 'events', seq: 2, events: makeEvents(3, 'lost') });
  expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'STORAGE_FAILED', seq: 2 });
});
