import type { Redis } from 'ioredis';
import type { Logger } from '../ops/logger.js';
import {
  heartbeatScript,
  presenceCountScript,
  presenceOnlineScript,
  runScript,
} from './cluster-scripts.js';
import type { Presence } from './presence.js';
import { createSocketTally } from './socket-tally.js';

export const defaultRedisPresenceOptions = {
  heartbeatTtlMs: 10_000, // a node that stops renewing its heartbeat is dead after this long
  heartbeatEveryMs: 3000, // renewal period; a few renewals fit in one TTL
};

export interface RedisPresenceOptions extends Partial<typeof defaultRedisPresenceOptions> {
  /** This process's id, unique per start: a restarted node must not inherit its past counts. */
  nodeId: string;
}

const userKey = (project: string, userId: string) => `presence:${project}:${userId}`;

/**
 * Presence shared by every node. Each node renews a heartbeat `node:<id>` (PX TTL) and
 * writes its own socket count per user into the hash `presence:<project>:<userId>`
 * (field: node id). A user is online when a node with a live heartbeat counts a socket, so
 * the users of a node that died without leaving go offline when its heartbeat expires.
 * A node writes its whole count from its own tally, never an increment: a write lost in an
 * outage or a reply that never came is repaired by writing again, and nothing can drift.
 * The connection is the caller's: `close` leaves it open.
 *
 * @example
 * const presence = createRedisPresence(redis, { nodeId }, { log });
 * await presence.join('dev', 'u42', socketId);
 */
export function createRedisPresence(
  redis: Redis,
  options: RedisPresenceOptions,
  deps: { log?: Logger } = {},
): Presence {
  const opts = { ...defaultRedisPresenceOptions, ...options };
  const nodeKey = `node:${opts.nodeId}`;
  const nodePrefix = `${redis.options.keyPrefix ?? ''}node:`;
  const tally = createSocketTally();
  /** Users whose last write failed, rewritten on the next heartbeat. */
  const unsynced = new Map<string, [string, string]>();

  /** Writes the user's count as the tally has it now; a failure is kept for the heartbeat. */
  async function write(project: string, userId: string): Promise<void> {
    const key = userKey(project, userId);
    const args = [opts.heartbeatTtlMs, opts.nodeId, tally.count(project, userId)];
    try {
      // EVAL, not EVALSHA with a fallback: after a Redis restart a write retried as EVAL
      // could land after a later write of the same user, leaving a stale count.
      const alive = await redis.eval(presenceCountScript.lua, 2, nodeKey, key, ...args);
      unsynced.delete(key);
      if (alive === 0) await rewriteAll();
    } catch (err) {
      unsynced.set(key, [project, userId]);
      deps.log?.debug({ err, key }, 'presence write failed; retried with the heartbeat');
    }
  }

  async function rewriteAll(): Promise<void> {
    const users = new Map(unsynced);
    for (const [project, userId] of tally.entries())
      users.set(userKey(project, userId), [project, userId]);
    await Promise.all([...users.values()].map(([project, userId]) => write(project, userId)));
  }

  async function beat(): Promise<void> {
    try {
      const alive = await runScript(redis, heartbeatScript, [nodeKey], [opts.heartbeatTtlMs]);
      if (alive === 0 || unsynced.size > 0) await rewriteAll();
    } catch (err) {
      deps.log?.debug({ err }, 'presence heartbeat failed');
    }
  }

  void beat();
  const timer = setInterval(() => void beat(), opts.heartbeatEveryMs);
  timer.unref();

  return {
    async join(project, userId, socketId) {
      tally.join(project, userId, socketId);
      await write(project, userId);
    },
    async leave(project, userId, socketId) {
      tally.leave(project, userId, socketId);
      await write(project, userId);
    },
    async online(project, userId) {
      if (tally.count(project, userId) > 0) return true;
      const args = [nodePrefix];
      return (await runScript(redis, presenceOnlineScript, [userKey(project, userId)], args)) === 1;
    },
    async close() {
      clearInterval(timer);
      const users = [...tally.entries()].map(([project, userId]) => userKey(project, userId));
      tally.clear();
      unsynced.clear();
      // Gone at once on every node, not after the heartbeat TTL.
      await Promise.all([
        redis.del(nodeKey),
        ...users.map((key) => redis.hdel(key, opts.nodeId)),
      ]).catch((err: unknown) => deps.log?.debug({ err }, 'presence cleanup failed'));
    },
  };
}
