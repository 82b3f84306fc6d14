import { join } from 'node:path';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/free-port.js';
import { removeDir, startServer, tempDir } from '../helpers/server-process.js';
import { stats, withTimeout } from '../helpers/socket-client.js';

const key = 'reconnect_key_0123456789';
const config = {
  projects: [
    {
      id: 'radio',
      keys: [{ key, scopes: ['ingest', 'read'] }],
      streams: [
        {
          name: 'ticks',
          source: { types: ['tick'] },
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [{ name: 'n', fn: 'count' }],
          emit: { mode: 'early', everyMs: 100 },
        },
      ],
    },
  ],
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('client across a server crash', () => {
  it('stores every event tracked through kill -9 and a restart exactly once, and resubscribes', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const first = await startServer({ dataDir, config, port });
    const client = createClient({
      url: first.url,
      key,
      WebSocket,
      storage: null,
      batch: { maxDelayMs: 20 },
      backoff: { baseMs: 50, maxMs: 500 },
      // Room for a slow restart at 1,000 events/s: this test is about loss, not the cap.
      maxQueuedEvents: 200_000,
    });
    let windows = 0;
    client.subscribe('ticks', undefined, () => windows++);

    // About 1,000 events/s, before, during and after the crash.
    const ids = new Set<string>();
    const ticker = setInterval(() => {
      for (let i = 0; i < 10; i++) ids.add(client.track('tick', { i }));
    }, 10);
    try {
      await eventually(() => client.stats().accepted >= 500, 10_000, '500 acks');
      expect(windows).toBeGreaterThan(0);
      await first.kill();
      await sleep(200);
      expect(client.stats().connected).toBe(false);
      const queuedWhileDown = client.stats().queued;
      expect(queuedWhileDown).toBeGreaterThan(0);

      const second = await startServer({ dataDir, config, port });
      const acceptedAtRestart = client.stats().accepted;
      const windowsAtRestart = windows;
      await eventually(
        () => client.stats().accepted > acceptedAtRestart + 500,
        20_000,
        'acks from the restarted server',
      );
      // Open windows start empty after a restart: these come from the new subscription.
      await eventually(() => windows > windowsAtRestart, 10_000, 'windows after resubscribing');
      clearInterval(ticker);
      await withTimeout(client.flush(), 30_000, 'flush');

      const tracked = client.stats().tracked;
      console.log('client across a crash:', { queuedWhileDown, ...client.stats() });
      expect(ids.size).toBe(tracked);
      expect(client.stats()).toMatchObject({ queued: 0, dropped: 0, rejected: 0 });
      expect(client.stats().reconnects).toBe(2); // the ingest socket and the live socket
      expect((await stats(second.url, key)).total).toBe(tracked);
      client.close();
      expect(await second.stop()).toBe(0);

      const ch = openChdb(join(dataDir, 'clickhouse'));
      const [row] = await ch.query<{ rows: string; ids: string }>(
        'SELECT count() AS rows, uniqExact(id) AS ids FROM events',
      );
      await ch.close();
      expect(Number(row!.rows)).toBe(tracked);
      expect(Number(row!.ids)).toBe(tracked);
    } finally {
      clearInterval(ticker);
      client.close();
      removeDir(dataDir);
    }
  }, 240_000);
});
