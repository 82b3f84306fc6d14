import { createClient, type Client } from '../../src/client/index.js';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createRemoteClickHouse } from '../../src/storage/redis-clickhouse.js';
import type { TestCluster } from './cluster.js';
import type { GeneratedEvent } from './event-generator.js';
import { watchSockets, type SocketWatch } from './watched-socket.js';

export interface LoadOptions {
  /** Events tracked per tick (10) every `everyMs` (50): 200 events/s by default. */
  perTick?: number;
  everyMs?: number;
  /** Every `alertEvery`-th event (40) is an `alert` of `alertUser` instead of a `load`. */
  alertEvery?: number;
  alertUser?: string;
  /** Characters of filler in each `load` event's `props.pad` (none by default). */
  pad?: number;
}

/** A client of the client library tracking a steady load over every node of a cluster. */
export interface Load {
  readonly client: Client;
  /** What the client's sockets saw: the ids the server acknowledged. */
  readonly watch: SocketWatch;
  /** Every id tracked, `load` and `alert`. */
  readonly ids: string[];
  /** The ids of the `alert` events, each of which must notify `alertUser` once. */
  readonly alerts: string[];
  /** Stops tracking (what was tracked is still sent). */
  stop(): void;
}

/**
 * `load` events (`props.g` g0…g3, `props.v` 0…999, users u0…u49, the shape the window oracle
 * reads) and every `alertEvery`-th an `alert` of one user, tracked by a client given every
 * node's URL: it fails over between them and resends what was not acknowledged.
 *
 * @example
 * const load = startLoad(cluster, key);
 * await eventually(() => load.watch.acked.size > 1000, 60_000, 'acks');
 */
export function startLoad(cluster: TestCluster, key: string, options: LoadOptions = {}): Load {
  const { perTick = 10, everyMs = 50, alertEvery = 40, alertUser = 'watcher' } = options;
  const pad: Record<string, string> = options.pad ? { pad: 'x'.repeat(options.pad) } : {};
  const watch = watchSockets();
  const urls = Array.from({ length: cluster.size }, (_, i) => cluster.node(i + 1).url);
  const client = createClient({
    url: urls,
    key,
    WebSocket: watch.WebSocket,
    storage: null,
    batch: { maxDelayMs: 20 },
    backoff: { baseMs: 50, maxMs: 1000 },
    openTimeoutMs: 5000,
  });
  const ids: string[] = [];
  const alerts: string[] = [];
  let n = 0;
  const ticker = setInterval(() => {
    for (let i = 0; i < perTick; i++, n++) {
      if (n % alertEvery === alertEvery - 1) {
        alerts.push(client.track('alert', { n }, { userId: alertUser }));
        ids.push(alerts.at(-1)!);
      } else {
        const props = { g: `g${n % 4}`, v: (n * 7919) % 1000, ...pad };
        ids.push(client.track('load', props, { userId: `u${n % 50}` }));
      }
    }
  }, everyMs);
  return { client, watch, ids, alerts, stop: () => clearInterval(ticker) };
}

export interface StoredEvent extends GeneratedEvent {
  /** Rows of this id in ClickHouse: 1 when stored once. */
  copies: number;
}

/**
 * Every stored event of `project`, read from ClickHouse through the storage owner (the
 * Redis RPC every remote node uses), one entry per id with how many rows it has.
 */
export async function storedEvents(
  cluster: TestCluster,
  project: string,
): Promise<Map<string, StoredEvent>> {
  const redis = await openRedis(cluster.redis.url, { keyPrefix: 'bl:' });
  const ch = createRemoteClickHouse(redis, { node: 'test-reader', timeoutMs: 30_000 });
  try {
    const rows = await ch.query<{
      id: string;
      type: string;
      ts: number;
      user_id: string;
      g: string;
      v: number;
      copies: number;
    }>(
      // The props the window oracle reads only: the RPC refuses results over 8 MB.
      `SELECT id, any(type) AS type, toUnixTimestamp64Milli(any(ts)) AS ts, any(user_id) AS user_id,
              JSONExtractString(any(props), 'g') AS g, JSONExtractInt(any(props), 'v') AS v,
              count() AS copies
       FROM events WHERE project = '${project}' GROUP BY id`,
    );
    return new Map(
      rows.map((row) => [
        row.id,
        {
          id: row.id,
          type: row.type,
          ts: Number(row.ts),
          userId: row.user_id,
          props: { g: row.g, v: Number(row.v) },
          copies: Number(row.copies),
        },
      ]),
    );
  } finally {
    await ch.close();
    redis.disconnect();
  }
}

/** A user token for `userId`, issued by node `n` with an admin key. */
export async function userToken(cluster: TestCluster, key: string, userId: string, n = 1) {
  const res = await fetch(`${cluster.node(n).url}/v1/users/${userId}/token?key=${key}`, {
    method: 'POST',
  });
  if (!res.ok) throw new Error(`token for ${userId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Prints a small table of figures under a title (the test's report). */
export function printTable(title: string, rows: Record<string, string | number>): void {
  const width = Math.max(...Object.keys(rows).map((name) => name.length));
  const lines = Object.entries(rows).map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  console.log(`${title}\n${lines.join('\n')}`);
}
