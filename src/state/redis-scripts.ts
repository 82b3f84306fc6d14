import { script } from '../cluster/redis-script.js';

export { runScript, type Script } from '../cluster/redis-script.js';

/**
 * The Lua scripts of the Redis StateStore. A script runs atomically, so a value
 * (`state:<key>`) and its member in the key index (the sorted set `state-index`) change
 * together. KEYS are [value key, index] unless noted; ioredis adds the key prefix to KEYS
 * only, so `list` is handed the full value-key prefix in ARGV.
 */

/** ARGV: value, member. */
export const putScript = script(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1`);

/** ARGV: member. */
export const delScript = script(`
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`);

/** ARGV: value, member. 1 when set. */
export const putIfAbsentScript = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  return 1
end
return 0`);

/**
 * KEYS: [index, then one value key per write]. ARGV: per write, its op (`put`,
 * `putIfAbsent`, `del`), member and value (empty for `del`). Returns 1 or 0 per write.
 * Nothing in it can fail half-way (Redis refuses a writing script only before it starts,
 * when out of memory), so a batch lands whole or not at all.
 */
export const batchScript = script(`
local out = {}
for i = 2, #KEYS do
  local op, member, value = ARGV[3 * i - 5], ARGV[3 * i - 4], ARGV[3 * i - 3]
  if op == 'del' then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], member)
    out[#out + 1] = 1
  elseif op == 'putIfAbsent' and not redis.call('SET', KEYS[i], value, 'NX') then
    out[#out + 1] = 0
  else
    if op == 'put' then redis.call('SET', KEYS[i], value) end
    redis.call('ZADD', KEYS[1], 0, member)
    out[#out + 1] = 1
  end
end
return out`);

/**
 * Compare-and-set for `update`. ARGV: member, '1' if a value was read, the value read,
 * '1' to write (else delete), the new value. 1 when the value was still the one read.
 * Comparing values (not versions) is enough: `update`'s function is pure, so a value that
 * changed and changed back gives the same result.
 */
export const compareAndSetScript = script(`
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return 0 end
elseif current then
  return 0
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1`);

/**
 * KEYS: [index]. ARGV: '1' for reverse, the two ZRANGEBYLEX bounds (max first when
 * reversed), the limit (-1 for none), the value-key prefix. Returns key, value, key, value…
 * MGET goes in slices because Lua's unpack has a small stack limit.
 */
export const listScript = script(`
local command = ARGV[1] == '1' and 'ZREVRANGEBYLEX' or 'ZRANGEBYLEX'
local members = redis.call(command, KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for first = 1, #members, 500 do
  local names = {}
  for i = first, math.min(first + 499, #members) do names[#names + 1] = ARGV[5] .. members[i] end
  local values = redis.call('MGET', unpack(names))
  for i = 1, #names do
    out[#out + 1] = members[first + i - 1]
    out[#out + 1] = values[i]
  end
end
return out`);
