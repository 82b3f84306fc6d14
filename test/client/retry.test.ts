import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { removeDir, startServer } from '../helpers/server-process.js';
import { stats, withTimeout } from '../helpers/socket-client.js';

describe('client against a rate-limited socket', () => {
  it('waits retryAfterMs after RATE_LIMITED and resends until everything is stored', async () => {
    const server = await startServer({
      env: { LOG_LEVEL: 'error' },
      config: { limits: { eventsPerSecond: 500, burstEvents: 100 } },
    });
    const errors: Array<{ code: string; retryAfterMs?: number }> = [];
    const client = createClient({
      url: server.url,
      key: server.key,
      WebSocket,
      storage: null,
      onError: (error) => errors.push(error),
    });
    try {
      for (let i = 0; i < 400; i++) client.track('burst', { i });
      await withTimeout(client.flush(), 20_000, 'flush');

      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e.code === 'RATE_LIMITED' && e.retryAfterMs! > 0)).toBe(true);
      expect(client.stats()).toMatchObject({ accepted: 400, duplicates: 0, queued: 0 });
      expect((await stats(server.url, server.key)).counts).toEqual({ burst: 400 });
    } finally {
      client.close();
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});
