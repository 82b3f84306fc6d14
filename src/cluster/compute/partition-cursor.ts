import type { Redis } from 'ioredis';
import { nextId } from '../log-entry.js';
import { idOrder } from '../log-scripts.js';
import { leaseKey } from '../redis-lease.js';
import { runScript, script } from '../redis-script.js';

/** `cursor:<p>`: the last entry of `log:<p>` whose pipeline feed and rule work completed. */
export const cursorKey = (partition: number) => `cursor:${partition}`;

/** The lease whose holder owns a partition's compute. */
export const partitionLease = (partition: number) => `partition:${partition}`;

/**
 * KEYS: [cursor key, lease key]. ARGV: node id, entry id. Moves the cursor forward to the id,
 * only while this node holds the partition's lease: an owner that lost its lease without
 * knowing it yet (a long pause) cannot move the new owner's cursor. Returns 0 when the lease
 * is not this node's, else 1.
 */
const commitScript = script(`${idOrder}
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local current = redis.call('GET', KEYS[1])
if current and not less(current, ARGV[2]) then return 1 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`);

/** The committed cursor of a partition; undefined when no owner has committed one yet. */
export async function readCursor(redis: Redis, partition: number): Promise<string | undefined> {
  return (await redis.get(cursorKey(partition))) ?? undefined;
}

/**
 * What the storage consumer's trimming must keep of a partition's log for its owner: the
 * entries after the cursor; everything while no cursor exists (no owner has run yet, so the
 * rules have not seen any entry).
 */
export async function retainFrom(redis: Redis, partition: number): Promise<string> {
  const cursor = await readCursor(redis, partition);
  return cursor === undefined ? '0-1' : nextId(cursor);
}

/** Commits `id` as the cursor under this node's lease; false when the lease is not its own. */
export async function commitCursor(
  redis: Redis,
  partition: number,
  nodeId: string,
  id: string,
): Promise<boolean> {
  const keys = [cursorKey(partition), leaseKey(partitionLease(partition))];
  return (await runScript(redis, commitScript, keys, [nodeId, id])) === 1;
}

/** Stream entry ids in order: negative when `a` comes before `b`. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
