import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backoffMs } from '../lib/backoff.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ClickHouse } from './clickhouse.js';
import {
  decodeRequest,
  replyChannel,
  rpcPackr,
  rpcQueue,
  type RpcReply,
  type RpcRequest,
} from './redis-clickhouse-rpc.js';

export const defaultServeClickHouseOptions = {
  workers: 2, // requests run at once; chdb runs each on a thread of its own, so two overlap
  blockSeconds: 1, // BRPOP wait; also the longest stop() waits for an idle worker
  maxReplyBytes: 8 * 1024 * 1024, // a larger result is answered with an error (Redis pub/sub buffers it whole)
  retryBaseMs: 100, // first pause after a failed BRPOP (Redis down); doubles, jittered
  retryMaxMs: 5000, // cap of that pause
};

export interface ServeClickHouseDeps {
  metrics?: Metrics;
  log?: Logger;
}

/**
 * The embedded ClickHouse owner's side of the RPC (see createRemoteClickHouse): `workers`
 * loops, each on a connection of its own (BRPOP blocks it), pop requests from `ch:rpc`, skip
 * those past their deadline (the sender has given up), run the rest against `ch` and publish
 * the result on the sender's reply channel. A request taken when the owner dies is lost; its
 * sender times out and may retry.
 *
 * @example
 * const rpc = serveClickHouse(redis, storage.ch, {}, { metrics, log });
 * await rpc.start(); // … await rpc.stop();
 */
export function serveClickHouse(
  redis: Redis,
  ch: ClickHouse,
  options: Partial<typeof defaultServeClickHouseOptions> = {},
  deps: ServeClickHouseDeps = {},
): Service {
  const opts = { ...defaultServeClickHouseOptions, ...options };
  const prefix = redis.options.keyPrefix ?? '';
  const stopping = new AbortController();
  const connections: Redis[] = [];
  let loops: Array<Promise<void>> = [];
  const served = (op: string, outcome: string) => deps.metrics?.rpcServed.inc({ op, outcome });

  async function run(request: RpcRequest): Promise<RpcReply> {
    try {
      if (request.op === 'query')
        return { id: request.id, ok: true, rows: await ch.query(request.sql, request.params) };
      if (request.op === 'exec') await ch.exec(request.sql, request.params);
      else await ch.insert(request.table, request.rows, request.options);
      return { id: request.id, ok: true };
    } catch (err) {
      return { id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async function answer(payload: Buffer): Promise<void> {
    let request: RpcRequest;
    try {
      request = decodeRequest(payload);
    } catch (err) {
      served('unknown', 'bad_request');
      return deps.log?.warn({ err }, 'ClickHouse RPC request does not decode');
    }
    if (Date.now() > request.deadline) return served(request.op, 'expired');
    let reply = await run(request);
    let bytes = rpcPackr.pack(reply);
    if (bytes.length > opts.maxReplyBytes) {
      const error = `result of ${bytes.length} bytes is over the RPC limit of ${opts.maxReplyBytes}`;
      reply = { id: request.id, ok: false, error };
      bytes = rpcPackr.pack(reply);
    }
    served(request.op, reply.ok ? 'ok' : 'error');
    await redis.publish(prefix + replyChannel(request.node), bytes);
  }

  async function worker(connection: Redis): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        const popped = await connection.brpopBuffer(rpcQueue, opts.blockSeconds);
        failures = 0;
        if (popped) await answer(popped[1]);
      } catch (err) {
        deps.log?.debug({ err }, 'ClickHouse RPC worker: Redis request failed');
        const delay = backoffMs(++failures, opts.retryBaseMs, opts.retryMaxMs);
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  return {
    name: 'clickhouse-rpc',
    async start() {
      for (let i = 0; i < opts.workers; i++) {
        const connection = redis.duplicate();
        connection.on('error', (err: unknown) => deps.log?.debug({ err }, 'ClickHouse RPC worker'));
        connections.push(connection);
      }
      loops = connections.map((connection) => worker(connection));
    },
    async stop() {
      stopping.abort();
      await Promise.all(loops);
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
