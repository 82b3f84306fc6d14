import { Packr } from 'msgpackr';
import type { InsertOptions } from './clickhouse.js';

/**
 * The wire of the ClickHouse RPC over Redis: requests are MessagePack maps in the list
 * `ch:rpc`, replies MessagePack maps published on `<keyPrefix>ch:reply:<node>`.
 */

/** The list every node pushes requests to and the owner's workers pop from. */
export const rpcQueue = 'ch:rpc';
/** The channel (after the key prefix) on which a node gets its replies. */
export const replyChannel = (node: string) => `ch:reply:${node}`;

/** A request as it travels in `ch:rpc`; `deadline` is epoch ms (node clocks kept by NTP). */
export type RpcRequest = { id: string; node: string; deadline: number } & (
  | { op: 'query'; sql: string; params?: Record<string, unknown> }
  | { op: 'exec'; sql: string; params?: Record<string, unknown> }
  | { op: 'insert'; table: string; rows: object[]; options?: InsertOptions }
);

export type RpcReply = { id: string } & (
  { ok: true; rows?: unknown[] } | { ok: false; error: string }
);

// Plain maps, not records: every message decodes on its own, on any node.
export const rpcPackr = new Packr({ useRecords: false });

const ops = new Set(['query', 'exec', 'insert']);

/** A request from `ch:rpc`, checked as far as the owner relies on it; throws when it is not one. */
export function decodeRequest(payload: Buffer): RpcRequest {
  const request = rpcPackr.unpack(payload) as Partial<Record<string, unknown>>;
  const ok =
    typeof request === 'object' &&
    request !== null &&
    typeof request.id === 'string' &&
    typeof request.node === 'string' &&
    typeof request.deadline === 'number' &&
    ops.has(request.op as string) &&
    (request.op === 'insert'
      ? typeof request.table === 'string' && Array.isArray(request.rows)
      : typeof request.sql === 'string');
  if (!ok) throw new Error('not a ClickHouse RPC request');
  return request as unknown as RpcRequest;
}
