import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ClickHouse } from './clickhouse.js';
import {
  replyChannel,
  rpcPackr,
  rpcQueue,
  type RpcReply,
  type RpcRequest,
} from './redis-clickhouse-rpc.js';

export { serveClickHouse, defaultServeClickHouseOptions } from './redis-clickhouse-server.js';

export const defaultRemoteClickHouseOptions = {
  timeoutMs: 10_000, // a request not answered by then rejects (no owner running, or it is far behind)
  maxQueuedRequests: 10_000, // ch:rpc is cut to this many, oldest dropped (their senders time out)
};

export type RemoteClickHouseOptions = typeof defaultRemoteClickHouseOptions & {
  /** This node's id: names its reply channel. */
  node: string;
};

export interface RemoteClickHouseDeps {
  metrics?: Metrics;
  log?: Logger;
}

/** A request the owner answered with an error, or did not answer in time. */
export class RemoteClickHouseError extends Error {
  constructor(
    readonly reason: 'timeout' | 'error' | 'unavailable' | 'closed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RemoteClickHouseError';
  }
}

interface Waiter {
  op: RpcRequest['op'];
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The `ClickHouse` of a node that does not own the embedded chdb: every call is a request
 * pushed to `ch:rpc` (LPUSH), run by the owner's `serveClickHouse`, answered on this node's
 * reply channel. A request not answered within `timeoutMs` (or an insert's own `timeoutMs`)
 * rejects with a RemoteClickHouseError of reason `timeout`, so callers see a clear error when no
 * owner runs. `kind` is 'server': like a ClickHouse server, it is over the network and may be
 * unreachable for a while, so callers retry rather than fail for good (storage-service.ts);
 * the owner, not this node, applies migrations. `close` leaves `redis` open.
 *
 * @example
 * const ch = createRemoteClickHouse(redis, { node: nodeId }, { metrics });
 * const store = createEventStore(ch); // as with any ClickHouse
 */
export function createRemoteClickHouse(
  redis: Redis,
  options: Partial<typeof defaultRemoteClickHouseOptions> & { node: string },
  deps: RemoteClickHouseDeps = {},
): ClickHouse {
  const opts: RemoteClickHouseOptions = { ...defaultRemoteClickHouseOptions, ...options };
  const channel = `${redis.options.keyPrefix ?? ''}${replyChannel(opts.node)}`;
  const waiters = new Map<string, Waiter>();
  const subscriber = redis.duplicate();
  let closed = false;
  const subscribed = new Promise<void>((resolve) => {
    subscriber.on(
      'ready',
      () =>
        void subscriber.subscribe(channel).then(
          () => resolve(),
          () => {},
        ),
    );
  });
  subscriber.on('error', (err: unknown) => deps.log?.debug({ err }, 'ClickHouse RPC subscriber'));
  subscriber.on('messageBuffer', (_name: Buffer, payload: Buffer) => {
    let reply: RpcReply;
    try {
      reply = rpcPackr.unpack(payload) as RpcReply;
    } catch (err) {
      return deps.log?.warn({ err }, 'ClickHouse RPC reply does not decode');
    }
    const waiter = waiters.get(reply.id);
    if (!waiter) return; // timed out already
    settle(reply.id, waiter.op, reply.ok ? 'ok' : 'error');
    if (reply.ok) waiter.resolve(reply.rows ?? []);
    else waiter.reject(new RemoteClickHouseError('error', reply.error));
  });

  function settle(id: string, op: string, outcome: string): void {
    clearTimeout(waiters.get(id)?.timer);
    waiters.delete(id);
    deps.metrics?.rpcRequests.inc({ op, outcome });
  }

  async function request(
    body: DistributiveOmit<RpcRequest, 'id' | 'node' | 'deadline'>,
    timeoutMs: number,
  ) {
    if (closed) throw new RemoteClickHouseError('closed', 'remote ClickHouse is closed');
    if (redis.status !== 'ready') {
      deps.metrics?.rpcRequests.inc({ op: body.op, outcome: 'unavailable' });
      throw new RemoteClickHouseError(
        'unavailable',
        `ClickHouse ${body.op} not sent: Redis is down`,
      );
    }
    const id = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const answer = new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle(id, body.op, 'timeout');
        reject(
          new RemoteClickHouseError(
            'timeout',
            `ClickHouse ${body.op} got no answer within ${timeoutMs} ms: is the node with cluster.storage 'owner' running?`,
          ),
        );
      }, timeoutMs);
      waiters.set(id, { op: body.op, resolve, reject, timer });
    });
    answer.catch(() => undefined); // rejections reach the caller through the await below
    const payload = rpcPackr.pack({ ...body, id, node: opts.node, deadline });
    try {
      await Promise.race([subscribed, answer]);
      const pushed = await redis
        .multi()
        .lpush(rpcQueue, payload)
        .ltrim(rpcQueue, 0, opts.maxQueuedRequests - 1)
        .exec();
      const failed = pushed?.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (err) {
      if (!waiters.has(id)) throw err; // timed out while waiting to subscribe
      const waiter = waiters.get(id)!;
      settle(id, body.op, 'unavailable');
      waiter.reject(
        new RemoteClickHouseError(
          'unavailable',
          `ClickHouse ${body.op} not sent: Redis is unavailable`,
          { cause: err },
        ),
      );
    }
    return answer;
  }

  return {
    kind: 'server',
    async exec(sql, params) {
      await request({ op: 'exec', sql, ...(params ? { params } : {}) }, opts.timeoutMs);
    },
    async query<T>(sql: string, params?: Record<string, unknown>) {
      return (await request(
        { op: 'query', sql, ...(params ? { params } : {}) },
        opts.timeoutMs,
      )) as T[];
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return;
      await request(
        { op: 'insert', table, rows: [...rows], options },
        options.timeoutMs ?? opts.timeoutMs,
      );
    },
    async close() {
      closed = true;
      for (const [id, waiter] of waiters) {
        settle(id, waiter.op, 'closed');
        waiter.reject(new RemoteClickHouseError('closed', 'remote ClickHouse closed'));
      }
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
