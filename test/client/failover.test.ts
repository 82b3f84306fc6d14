import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { eventually } from '../helpers/eventually.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { stats, withTimeout } from '../helpers/socket-client.js';
import { watchSockets } from '../helpers/watched-socket.js';

/**
 * Three real single-node servers on their own folders with one project key, and a client
 * given the list of the three. These servers share no de-duplication, so an event that was
 * in flight when its node died may be stored there and again where it is resent: the
 * assertions allow that copy for those events only (across a real cluster the shared
 * de-duplication removes it).
 */
const key = 'failover_key_0123456789abcdef';

/** Every stored event id of one server's folder, with how often it is stored. */
async function storedIds(dataDir: string): Promise<Map<string, number>> {
  const ch = openChdb(join(dataDir, 'clickhouse'));
  try {
    const rows = await ch.query<{ id: string; n: string }>(
      'SELECT id, count() AS n FROM events GROUP BY id',
    );
    return new Map(rows.map((row) => [row.id, Number(row.n)]));
  } finally {
    await ch.close();
  }
}

describe('client over a list of three servers', () => {
  it('moves to another node when the one it is on is killed, and every tracked event is stored', async () => {
    const nodes: ServerProcess[] = await Promise.all([0, 1, 2].map(() => startServer({ key })));
    const urls = nodes.map((node) => node.url);
    const watch = watchSockets();
    const client = createClient({
      url: urls,
      key,
      WebSocket: watch.WebSocket,
      storage: null,
      batch: { maxDelayMs: 20 },
      backoff: { baseMs: 50, maxMs: 500 },
    });
    let windows = 0;
    client.subscribe('active_users', undefined, () => windows++);

    // About 1,000 events/s, before, during and after the kill.
    const ids: string[] = [];
    const ticker = setInterval(() => {
      for (let i = 0; i < 10; i++) ids.push(client.track('tick', { i }, { userId: `u${i}` }));
    }, 10);
    let restarted: ServerProcess | undefined;
    try {
      await eventually(() => client.stats().accepted >= 1000, 20_000, '1,000 acks');
      await eventually(() => windows > 0, 10_000, 'windows before the kill');
      const victim = nodes.find((node) => node.url === client.server)!;
      expect(victim).toBeDefined();
      const ingestPath = '/v1/ingest';
      const ingestUrls = () => watch.urls.filter((url) => new URL(url).pathname === ingestPath);
      const ingestBefore = ingestUrls().length;
      // Taken in the same tick as the SIGKILL (to the child's PID): nothing is sent in between.
      const unackedAtKill = new Set(ids.filter((id) => !watch.acked.has(id)));
      await victim.kill();

      const acceptedAtKill = client.stats().accepted;
      await eventually(
        () => client.stats().accepted > acceptedAtKill + 1000,
        20_000,
        'acks from another node',
      );
      const survivor = client.server!;
      const next = urls[(urls.indexOf(victim.url) + 1) % urls.length]!;
      // The close moved the socket to the next node of the list, which was up: one attempt.
      const attempts = ingestUrls().slice(ingestBefore);
      expect(attempts.map((url) => new URL(url).origin.replace('ws', 'http'))).toEqual([next]);
      expect(survivor).toBe(next);
      // The live socket's node is dead too: windows from now on come from a new subscription.
      const windowsAfterFailover = windows;
      await eventually(() => windows > windowsAfterFailover, 10_000, 'windows after resubscribing');

      clearInterval(ticker);
      await withTimeout(client.flush(), 30_000, 'flush');
      const tracked = client.stats().tracked;
      expect(new Set(ids).size).toBe(tracked);
      expect(client.stats()).toMatchObject({ queued: 0, dropped: 0, rejected: 0 });
      client.close();

      // Acked events survive kill -9: the dead node, started again on its folder, counts them.
      restarted = await startServer({ key, dataDir: victim.dataDir });
      const live = nodes.map((node) => (node === victim ? restarted! : node));
      const totals = await Promise.all(
        live.map(async (node) => (await stats(node.url, key)).total),
      );
      for (const node of live) expect(await node.stop()).toBe(0);

      const perServer: Array<Map<string, number>> = [];
      // One chdb folder at a time: chdb opens one data directory per process.
      for (const node of nodes) perServer.push(await storedIds(node.dataDir));
      const copies = new Map<string, number>();
      for (const stored of perServer) {
        for (const [id, n] of stored) {
          expect(n, `${id} stored ${n} times on one server`).toBe(1);
          copies.set(id, (copies.get(id) ?? 0) + 1);
        }
      }
      expect(perServer.map((stored) => stored.size)).toEqual(totals);
      const missing = ids.filter((id) => !copies.has(id));
      const doubled = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
      const strangers = doubled.filter((id) => !unackedAtKill.has(id));
      console.log('client failover:', {
        tracked,
        totals,
        doubled: doubled.length,
        unackedAtKill: unackedAtKill.size,
        ingestAttempts: attempts.length,
      });
      expect(missing).toEqual([]);
      expect(strangers).toEqual([]);
      expect(copies.size).toBe(tracked);
      expect(totals.reduce((a, b) => a + b, 0)).toBe(tracked + doubled.length);
    } finally {
      clearInterval(ticker);
      client.close();
      await Promise.all([...nodes, ...(restarted ? [restarted] : [])].map((node) => node.kill()));
      for (const node of nodes) removeDir(node.dataDir);
    }
  });
});
