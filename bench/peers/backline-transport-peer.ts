/**
 * backline's transport alone: its own ingest socket (uWebSockets.js, the upgrade gate, key
 * check, frame decoding, rate limits, the one socket writer), its validation and its de-dup
 * window, composed as src/compose/ wires them, with an acceptance that stores nothing: a
 * batch is acknowledged once its events are validated and de-duplicated. Set next to the ws
 * and Socket.IO peers (decode and ack) and to backline itself (ack once inserted), it shows
 * how much of backline's time is transport and checks, and how much is storage.
 *
 * Run: `PEER_KEY=<key> node --import tsx bench/peers/backline-transport-peer.ts [port]` (or
 * PORT=…; 0 picks a free port). The key may ingest into project `bench`. Prints
 * `peer listening on 127.0.0.1:<port>`; stops on SIGTERM or SIGINT.
 */
import type { WebSocket } from 'uWebSockets.js';
import { createKeyRegistry } from '../../src/auth/key-registry.js';
import { configSchema } from '../../src/compose/config.js';
import type { Acceptance } from '../../src/ingest/acceptance.js';
import { createDedupWindow, type DedupWindow } from '../../src/ingest/dedup-window.js';
import { createIngest } from '../../src/ingest/ingest-service.js';
import { createMemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createCors } from '../../src/transport/cors.js';
import { registerIngestSocket } from '../../src/transport/ingest/ingest-socket.js';
import { createRateLimiters } from '../../src/transport/rate-limits.js';
import { createSocketWriter, type SocketState } from '../../src/transport/socket-writer.js';
import { createApp } from '../../src/transport/tls-app.js';
import { createUpgradeGate } from '../../src/transport/upgrade-gate.js';
import { loadUws } from '../../src/transport/uws.js';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const key = process.env.PEER_KEY;
if (!key) throw new Error('PEER_KEY must name the ingest key');

/** De-dup as the single-node acceptance does it (local-acceptance.ts), then ack: no storage. */
function createCheckedAcceptance(dedup: DedupWindow): Acceptance {
  return {
    pressure: () => undefined,
    accept(project, rows) {
      let duplicates = 0;
      for (const row of rows) {
        if (dedup.has(project, row.id)) duplicates += 1;
        else dedup.add(project, row.id);
      }
      return Promise.resolve({ accepted: rows.length - duplicates, duplicates });
    },
    durable: () => Promise.resolve(),
  };
}

// Every setting at its default, as `npm start` runs with no config file.
const config = configSchema.parse({
  projects: [{ id: 'bench', keys: [{ key, scopes: ['ingest'] }] }],
});
const { limits } = config;
const { uws } = loadUws(false);
const app = createApp(uws);
const metrics = createMetrics();
const log = createLogger('warn');
const writer = createSocketWriter({ app, metrics });
const cors = createCors(config.cors);
const window = { windowMs: config.storage.dedupWindowMs, maxIds: config.storage.dedupMaxIds };
const acceptance = createCheckedAcceptance(createDedupWindow(window));
const sockets = new Set<WebSocket<SocketState>>();
registerIngestSocket(
  app,
  {
    ingest: createIngest({ acceptance, metrics, limits }),
    auth: createKeyRegistry(config.projects),
    limits,
    metrics,
    log,
    writer,
    rateLimits: createRateLimiters(limits, (limit) => createMemoryRateLimiter(limit)),
    gate: createUpgradeGate({ cors, limits }),
  },
  sockets,
);

app.listen('127.0.0.1', port, (listenSocket) => {
  if (!listenSocket) throw new Error(`cannot listen on 127.0.0.1:${port}`);
  console.log(`peer listening on 127.0.0.1:${uws.us_socket_local_port(listenSocket as never)}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      uws.us_listen_socket_close(listenSocket);
      for (const ws of [...sockets]) ws.close();
      process.exit(0);
    });
});
