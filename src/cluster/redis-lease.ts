import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import {
  leaseAcquireScript,
  leaseReleaseScript,
  leaseRenewScript,
  runScript,
} from './cluster-scripts.js';
import { createLeaseEvents, type LeaseDeps } from './lease-events.js';
import type { HoldOptions, LeaseHandlers } from './leases.js';

/** The key of lease `name`, holding its holder's node id (without the key prefix). */
export const leaseKey = (name: string) => `lease:${name}`;

export interface RedisLeaseOptions {
  nodeId: string;
  ttlMs: number;
  safetyMarginMs: number;
}

/**
 * One lease, `lease:<name>` holding the holder's node id with a TTL. The holder renews it
 * every ttl/3 with a compare-and-pexpire; the others try to take it every ttl/3, jittered
 * so they do not all ask at once. The holder gives the lease up at a local deadline: the
 * time its last successful renewal was sent + ttl − the safety margin. The key cannot expire
 * before that (its TTL started after the send), so `lost` runs before any other node can
 * acquire, whether renewals failed because the lease changed hands or Redis was unreachable.
 */
export function createRedisLease(
  redis: Redis,
  name: string,
  handlers: LeaseHandlers,
  opts: RedisLeaseOptions & HoldOptions,
  deps: LeaseDeps,
) {
  const key = leaseKey(name);
  const args = [opts.nodeId, opts.ttlMs];
  const events = createLeaseEvents(name, handlers, deps);
  const everyMs = opts.ttlMs / 3;
  let held = false;
  let deadline = 0; // performance.now() ms: monotonic, unlike Date.now()
  let epoch = 0; // bumped on every loss, so a reply to an older request changes nothing
  let closed = false;
  // While a handover runs: no attempt, or the acquire script (which renews this node's own
  // key) would take the lease back between the `lost` handler and the delete.
  let releasing = false;
  let next: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;

  const deleteOwn = () => runScript(redis, leaseReleaseScript, [key], [opts.nodeId]);

  function lose(reason: string): void {
    held = false;
    epoch++;
    clearTimeout(expiry);
    const planned = reason === 'released' || reason === 'closing';
    deps.log?.[planned ? 'info' : 'warn']({ lease: name, reason }, 'lease lost');
    events.lost();
  }

  /** A successful acquire or renewal sent at `sentAt`: the key lives at least until then + TTL. */
  function extend(sentAt: number): void {
    deadline = sentAt + opts.ttlMs - opts.safetyMarginMs;
    clearTimeout(expiry);
    expiry = setTimeout(() => lose('renewal overdue'), deadline - performance.now()).unref();
  }

  async function attempt(): Promise<void> {
    if (releasing || opts.compete?.() === false) return;
    const sentAt = performance.now();
    const won = (await runScript(redis, leaseAcquireScript, [key], args)) === 1;
    if (!won) return;
    if (closed) return void (await deleteOwn());
    // Too late to use: a later attempt takes it back, since the key is still this node's.
    if (sentAt + opts.ttlMs - opts.safetyMarginMs <= performance.now()) return;
    held = true;
    extend(sentAt);
    deps.log?.info({ lease: name }, 'lease acquired');
    events.acquired();
  }

  async function renew(): Promise<void> {
    const sentAt = performance.now();
    const since = epoch;
    const kept = (await runScript(redis, leaseRenewScript, [key], args)) === 1;
    if (since !== epoch || closed) return;
    if (kept) extend(sentAt);
    else lose('taken by another node');
  }

  async function tick(): Promise<void> {
    try {
      await (held ? renew() : attempt());
    } catch (err) {
      // Unreachable Redis: the holder keeps trying until its deadline passes.
      deps.log?.debug({ err, lease: name }, 'lease request failed');
    }
    if (closed) return;
    const delay = held ? everyMs : everyMs * (0.75 + Math.random() / 2);
    next = setTimeout(() => void tick(), delay).unref();
  }

  void tick();
  return {
    holds: () => held && performance.now() < deadline,
    /** Hands the lease over: `lost` has returned before the delete; competing goes on. */
    async release(): Promise<void> {
      if (!held || closed) return;
      releasing = true;
      try {
        lose('released');
        await events.settled();
        await deleteOwn();
      } finally {
        releasing = false;
      }
    },
    /** Stops competing; a held lease is lost (its handler has returned) and then released. */
    async close(): Promise<void> {
      closed = true;
      clearTimeout(next);
      const wasHeld = held;
      if (held) lose('closing');
      await events.settled();
      if (wasHeld) await deleteOwn();
    },
  };
}

export type RedisLease = ReturnType<typeof createRedisLease>;
