import { script } from './redis-script.js';

export { runScript } from './redis-script.js';

/**
 * The Lua scripts of presence and leases. A script runs atomically, which is what makes a
 * compare-and-expire or a read-and-clean one step. ioredis prefixes KEYS only, so a script
 * that builds key names gets the full prefix in ARGV.
 */

// Renews the node's heartbeat `node:<id>`; 0 when it had expired (other nodes may have
// dropped this node's presence fields meanwhile, so the node writes them all again).
const heartbeat = `
local alive = redis.call('PEXPIRE', KEYS[1], ARGV[1])
if alive == 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end`;

/** KEYS: [node key]. ARGV: heartbeat TTL ms. 1 when alive, 0 when it had expired. */
export const heartbeatScript = script(`${heartbeat}
return alive`);

/**
 * KEYS: [node key, presence key]. ARGV: heartbeat TTL ms, node id, socket count. Writes the
 * node's count (its field goes at 0) and renews the heartbeat in the same step, so no node
 * can see the count without a live heartbeat. Returns the heartbeat's state as above.
 */
export const presenceCountScript = script(`${heartbeat}
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
else
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return alive`);

/**
 * KEYS: [presence key]. ARGV: the full node-key prefix. 1 when a node with a live heartbeat
 * counts a socket; drops the fields of nodes whose heartbeat expired (nodes that died).
 */
export const presenceOnlineScript = script(`
local fields = redis.call('HGETALL', KEYS[1])
local online = 0
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[1] .. fields[i]) == 1 then
    if tonumber(fields[i + 1]) > 0 then online = 1 end
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return online`);

/**
 * KEYS: [lease key]. ARGV: node id, TTL ms. 1 when this node holds the lease after: it was
 * free (SET NX PX), or still this node's own (a renewal whose reply came too late).
 */
export const leaseAcquireScript = script(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);

/** KEYS: [lease key]. ARGV: node id, TTL ms. Extends only this node's own lease; 1 when it did. */
export const leaseRenewScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);

/** KEYS: [lease key]. ARGV: node id. Deletes only this node's own lease; 1 when it did. */
export const leaseReleaseScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/**
 * KEYS: [registry key]. ARGV: node id, TTL ms. Sets the node's entry to expire TTL from now on
 * Redis's clock (so node clocks do not matter), drops expired entries (nodes that died), and
 * returns the ids of the live nodes.
 */
export const registryBeatScript = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`);
