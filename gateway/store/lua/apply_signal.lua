--[[ apply_signal: write one routed event into a user's feed, exactly once, and publish it live.
KEYS[1] done marker for the event   KEYS[2] feed stream   KEYS[3] unread zset
KEYS[4] user settings hash          KEYS[5] group key (type+contact)   KEYS[6] signal-state hash
KEYS[7] feed meta hash
ARGV[1] signal type   ARGV[2] signal JSON without id/count (an object starting with '{')
ARGV[3] group window seconds (0 = never group)   ARGV[4] done-marker TTL seconds
ARGV[5] now (ms)   ARGV[6] history min entries   ARGV[7] history max age (ms)
ARGV[8] history max entries   ARGV[9] live pub/sub channel
Returns {1, id} new signal, {2, id} grouped update of signal id, {0, id} event already applied,
{3, ''} type switched off by the user.
Invariants: an event is applied at most once (the done marker is written in the same atomic
step as the feed entry, so a router that dies before XACK and is replayed changes nothing);
feed entries and live frames carry the same ids in the same order, so the hub can drop
duplicates at the replay/live seam by comparing cursors; the feed keeps at least the newest
`history min` entries and everything younger than `history max age`, never more than
`history max entries`; the meta hash's `trimmed` is the newest id any trim removed. ]]
local done = redis.call('GET', KEYS[1])
if done then return {0, done} end
local ttl = tonumber(ARGV[4])
if redis.call('HGET', KEYS[4], ARGV[1]) == '0' then
  redis.call('SET', KEYS[1], '', 'EX', ttl)
  return {3, ''}
end

local function score(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms) * 1000 + math.min(tonumber(seq), 999)
end

local function frame(cursor, sid, n, body)
  return cursor .. '\n{"type":"signal","cursor":"' .. cursor .. '","signal":{"id":"' .. sid ..
    '","count":' .. n .. ',"read":false,' .. string.sub(body, 2) .. '}'
end

local window = tonumber(ARGV[3])
local max_entries = tonumber(ARGV[8])
local gid = false
if window > 0 then gid = redis.call('GET', KEYS[5]) end

-- The newest id a trim removes ('trimmed' in the meta hash): a resume from it or above lost
-- nothing, from below it gets `gap`. XADD's MAXLEN drops the oldest entries: note them first.
local trimmed = false
local before = redis.call('XLEN', KEYS[2])
if before >= max_entries then
  local gone = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', before - max_entries + 1)
  if #gone > 0 then trimmed = gone[#gone][1] end
end

local status, sid, cursor, n
if gid then
  n = redis.call('HINCRBY', KEYS[6], gid .. '#n', 1)
  if n == 1 then n = redis.call('HINCRBY', KEYS[6], gid .. '#n', 1) end
  redis.call('HSET', KEYS[6], gid, ARGV[2])
  cursor = redis.call('XADD', KEYS[2], 'MAXLEN', max_entries, '*', 'k', 'u', 'ref', gid, 'n', n, 's', ARGV[2])
  status, sid = 2, gid
else
  n = 1
  cursor = redis.call('XADD', KEYS[2], 'MAXLEN', max_entries, '*', 'k', 'n', 'n', 1, 's', ARGV[2])
  if window > 0 then redis.call('SET', KEYS[5], cursor, 'EX', window) end
  status, sid = 1, cursor
end
redis.call('SET', KEYS[1], sid, 'EX', ttl)
redis.call('ZADD', KEYS[3], score(sid), sid)

-- Retention, amortised: look for something to trim only every 64 entries.
local len = redis.call('XLEN', KEYS[2])
local keep = tonumber(ARGV[6])
if len > keep and (len % 64 == 0 or len >= max_entries) then
  local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', keep)
  local oldest_kept = newest[#newest][1]
  local cutoff = (tonumber(ARGV[5]) - tonumber(ARGV[7])) .. '-0'
  local trim_to = oldest_kept
  if score(cutoff) < score(oldest_kept) then trim_to = cutoff end
  local gone = redis.call('XREVRANGE', KEYS[2], '(' .. trim_to, '-', 'COUNT', 1)
  if #gone > 0 then
    trimmed = gone[1][1]
    redis.call('XTRIM', KEYS[2], 'MINID', trim_to)
  end
end
if trimmed then redis.call('HSET', KEYS[7], 'trimmed', trimmed) end
-- The first entry changes only by trimming (nothing is XDELed): when it moves, remember the
-- new floor and drop state derived from trimmed signals.
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1][1]
local prev = redis.call('HGET', KEYS[7], 'first')
if prev ~= first then
  if prev then
    redis.call('HSET', KEYS[7], 'floor', first)
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. score(first))
    for _, f in ipairs(redis.call('HKEYS', KEYS[6])) do
      local base = string.match(f, '^(%d+%-%d+)')
      if base and score(base) < score(first) then redis.call('HDEL', KEYS[6], f) end
    end
  end
  redis.call('HSET', KEYS[7], 'first', first)
end

local unread = redis.call('ZCARD', KEYS[3])
redis.call('PUBLISH', ARGV[9], frame(cursor, sid, n, ARGV[2]))
redis.call('PUBLISH', ARGV[9], '\n{"type":"unread","count":' .. unread .. '}')
return {status, sid}
