import { script } from './redis-script.js';

/**
 * The Lua scripts of the event log. Each runs atomically, which is what makes de-duplication
 * exact across nodes and trimming safe while consumers read and ack.
 */

/**
 * KEYS: [log key]. ARGV: the full de-dup key prefix (`<keyPrefix>dedup:<project>:`), the
 * de-dup window in ms (0: only duplicates within the frame), the project, the rows blob, then one event id per row.
 * Returns `{entry id or nil, {0-based duplicate indices}}`.
 *
 * The generation comes from Redis's clock, not the node's: nodes whose clocks disagree still
 * pick the same set. An id is a duplicate when it is in the current or the previous
 * generation's set, or earlier in the same frame; each set expires 2 windows after its last
 * add, so an id is remembered for at least one window. SMISMEMBER and SADD go in slices
 * because Lua's unpack has a small stack limit.
 */
export const appendScript = script(`
local window = tonumber(ARGV[2])
local ids = {}
for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
local duplicates, fresh, seen = {}, {}, {}
local current, previous
if window > 0 then
  local time = redis.call('TIME')
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local generation = math.floor(nowMs / window)
  current = ARGV[1] .. string.format('%d', generation)
  previous = ARGV[1] .. string.format('%d', generation - 1)
end
for first = 1, #ids, 500 do
  local last = math.min(first + 499, #ids)
  local inCurrent, inPrevious = {}, {}
  if current then
    inCurrent = redis.call('SMISMEMBER', current, unpack(ids, first, last))
    inPrevious = redis.call('SMISMEMBER', previous, unpack(ids, first, last))
  end
  for i = first, last do
    local id = ids[i]
    local j = i - first + 1
    if inCurrent[j] == 1 or inPrevious[j] == 1 or seen[id] then
      duplicates[#duplicates + 1] = i - 1
    else
      seen[id] = true
      fresh[#fresh + 1] = id
    end
  end
end
if #fresh == 0 then return {false, duplicates} end
if current then
  for first = 1, #fresh, 500 do
    redis.call('SADD', current, unpack(fresh, first, math.min(first + 499, #fresh)))
  end
  redis.call('PEXPIRE', current, 2 * window)
end
local entry
if #duplicates > 0 then
  entry = redis.call('XADD', KEYS[1], '*', 'p', ARGV[3], 'r', ARGV[4], 'd', table.concat(duplicates, ','))
else
  entry = redis.call('XADD', KEYS[1], '*', 'p', ARGV[3], 'r', ARGV[4])
end
return {entry, duplicates}`);

/** Lua `parse(id)` and `less(a, b)` for stream entry ids (`<ms>-<seq>`), for scripts to include. */
export const idOrder = `
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end`;

/**
 * KEYS: [log key]. ARGV: group, the id from which the caller needs entries kept ('' for no
 * such need). Trims (XTRIM MINID) below the oldest entry the group still needs: its oldest
 * pending entry, else the first it has not read, and below the caller's id. Returns
 * `{entries trimmed, entries pending in the group, group lag (-1 when Redis cannot tell)}`.
 * One script, so no read or ack lands between choosing the id and trimming.
 */
export const trimScript = script(`${idOrder}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
local info
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then info = fields end
end
if not info then return {0, 0, 0} end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local keep = pending[2]
if pending[1] == 0 or not keep then
  local ms, seq = parse(info['last-delivered-id'])
  keep = string.format('%d-%d', ms, seq + 1)
end
if ARGV[2] ~= '' and less(ARGV[2], keep) then keep = ARGV[2] end
local trimmed = redis.call('XTRIM', KEYS[1], 'MINID', keep)
return {trimmed, pending[1], info['lag'] or -1}`);

/**
 * KEYS: [log key]. ARGV: group, consumer, entry ids. Of the ids, those still pending with this
 * consumer are claimed again by it (XCLAIM JUSTID resets their idle time, so nobody claims
 * entries whose insert is still being retried); returns those ids. Ids another consumer
 * claimed meanwhile are left to it.
 */
export const touchScript = script(`
local mine = {}
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if entry and entry[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    mine[#mine + 1] = ARGV[i]
  end
end
return mine`);

/**
 * KEYS: [log key]. ARGV: group, own consumer, idle ms. Deletes the consumers (not this one)
 * with nothing pending that have not read for the idle time: nodes that went away. In one
 * script, because XGROUP DELCONSUMER also drops a consumer's pending entries, so a check
 * followed by a separate delete could lose entries read in between. Returns how many it deleted.
 */
export const forgetConsumersScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local deleted = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['name'] ~= ARGV[2] and fields['pending'] == 0 and fields['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    deleted = deleted + 1
  end
end
return deleted`);
