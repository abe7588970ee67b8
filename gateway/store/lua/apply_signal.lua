--[[ apply_signal: write routed events into users' feeds of one org, each exactly once, in order,
and publish each live. One call applies one or many signals (a router's batch for one org).
ARGV[1] done-marker TTL seconds   ARGV[2] now (ms)   ARGV[3] history min entries
ARGV[4] history max age (ms)   ARGV[5] history max entries
ARGV[6] "1": a signal for a user missing from the users hash is not written (status 4)
ARGV[7] U, how many users the signals go to
KEYS[1] the org's users hash; then 9 keys per user u = 1..U (base k = 1 + 9 * (u - 1)):
KEYS[k+1] feed stream   KEYS[k+2] unread zset   KEYS[k+3] settings hash   KEYS[k+4] signal-state hash
KEYS[k+5] feed meta hash   KEYS[k+6] archived zset   KEYS[k+7] snoozed zset   KEYS[k+8] away-unread
zset   KEYS[k+9] acted hash (see feed_state.lua for the state keys);
then 2 keys per signal i (base d = 1 + 9 * U + 2 * (i - 1)):
KEYS[d+1] done marker for the event   KEYS[d+2] group key (type+contact)
ARGV: 2 per user (base 7 + 2 * (u - 1)): user id, live channel; then 4 per signal
(base a = 7 + 2 * U + 4 * (i - 1)): ARGV[a+1] the user's number u   ARGV[a+2] signal type
ARGV[a+3] signal JSON without id/count (an object starting with '{')
ARGV[a+4] group window seconds (0 = never group)
Returns a flat array, two items per signal in order: {1, id} new signal, {2, id} grouped update
of signal id, {0, id} event already applied, {3, ''} type switched off by the user, {4, ''} no
such user (nothing written).
Invariants: an event is applied at most once (the done marker is written in the same atomic
step as the feed entry, so a router that dies before XACK and is replayed changes nothing);
signals are applied in argument order, so each feed gets them in the order given; feed entries
and live frames carry the same ids in the same order, so the hub can drop duplicates at the
replay/live seam by comparing cursors; the feed keeps at least the newest `history min` signals
(with their grouped repeats) and everything younger than `history max age`, never more than
`history max entries` entries; the meta
hash's `trimmed` is the newest id any trim removed, and state of trimmed signals (unread,
archived, snoozed, away-unread, acted, grouped JSON) goes with them. A grouped repeat of an
archived or snoozed signal brings it back to the inbox, unread; every frame says
`"archived":false,"snoozed_until":null` (a new or repeated signal is always in the inbox).
All keys carry the org's hash tag: one Cluster slot per call. ]]
local ttl = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local max_age = tonumber(ARGV[4])
local max_entries = tonumber(ARGV[5])
local check_user = ARGV[6] == '1'

local function score(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms) * 1000 + math.min(tonumber(seq), 999)
end

local function frame(cursor, sid, n, body)
  return cursor .. '\n{"type":"signal","cursor":"' .. cursor .. '","signal":{"id":"' .. sid ..
    '","count":' .. n .. ',"read":false,"archived":false,"snoozed_until":null,' .. string.sub(body, 2) .. '}'
end

-- What this call has learnt already (nothing else writes these keys while it runs): each feed's
-- noted first entry (by meta key), whether each user exists (by user number), each user's off
-- switch of each signal type (by settings key and type).
local firsts, exists, off = {}, {}, {}

-- The entry of the `keep`-th newest signal (a `k=n` entry), or nil when the feed holds fewer:
-- the history promise counts signals, and grouped repeats and snooze returns (`k=u`) are entries
-- of their own, always newer than their signal's `k=n` entry.
local function oldest_kept_signal(feed)
  local need, from = keep, '+'
  while true do
    local count = math.max(need, 64)
    local batch = redis.call('XREVRANGE', feed, from, '-', 'COUNT', count)
    for _, entry in ipairs(batch) do
      if entry[2][2] == 'n' then
        need = need - 1
        if need == 0 then return entry[1] end
      end
    end
    if #batch < count then return nil end
    from = '(' .. batch[#batch][1]
  end
end

-- Retention, amortised: look for something to trim only every 64 entries (or at the cap). Only
-- entries older than the age cutoff can go (the trim point is the older of the cutoff and the
-- newest `keep` signals' oldest): while the first entry is younger, there is nothing to look for,
-- and the read of the newest `keep` signals is skipped. `len`: the feed's length now; `before`:
-- before this XADD.
local function retain(feed, unread, state, meta, trimmed, len, before, k)
  local cutoff = (now - max_age) .. '-0'
  if len > keep and (len % 64 == 0 or len >= max_entries)
      and score(redis.call('XRANGE', feed, '-', '+', 'COUNT', 1)[1][1]) < score(cutoff) then
    local oldest_kept = oldest_kept_signal(feed)
    if oldest_kept then
      local trim_to = oldest_kept
      if score(cutoff) < score(oldest_kept) then trim_to = cutoff end
      local gone = redis.call('XREVRANGE', feed, '(' .. trim_to, '-', 'COUNT', 1)
      if #gone > 0 then
        trimmed = gone[1][1]
        redis.call('XTRIM', feed, 'MINID', trim_to)
      end
    end
  end
  if trimmed then redis.call('HSET', meta, 'trimmed', trimmed) end
  -- The first entry changes only by trimming (nothing is XDELed, and only this script trims a
  -- feed) or when the feed was empty: then (or when none is noted yet) look at it, and when it
  -- moved, remember the new floor and drop state derived from trimmed signals.
  local prev = firsts[meta]
  if prev == nil then prev = redis.call('HGET', meta, 'first') end
  firsts[meta] = prev
  if prev and not trimmed and before > 0 then return end
  local first = redis.call('XRANGE', feed, '-', '+', 'COUNT', 1)[1][1]
  firsts[meta] = first
  if prev ~= first then
    if prev then
      redis.call('HSET', meta, 'floor', first)
      -- '%.0f': Lua's own number-to-string keeps 14 digits, and a score has 16 (the bound would
      -- round down past the entries of first's millisecond).
      local below = '(' .. string.format('%.0f', score(first))
      redis.call('ZREMRANGEBYSCORE', unread, '-inf', below)
      -- The user's archived, away-unread, snoozed and acted keys (KEYS[k+6..9]).
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 6], '-inf', below)
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 8], '-inf', below)
      for _, sid in ipairs(redis.call('ZRANGE', KEYS[k + 7], 0, -1)) do
        if score(sid) < score(first) then redis.call('ZREM', KEYS[k + 7], sid) end
      end
      for _, hash in ipairs({state, KEYS[k + 9]}) do
        for _, f in ipairs(redis.call('HKEYS', hash)) do
          local base = string.match(f, '^(%d+%-%d+)')
          if base and score(base) < score(first) then redis.call('HDEL', hash, f) end
        end
      end
    end
    redis.call('HSET', meta, 'first', first)
  end
end

local users = tonumber(ARGV[7])

local function apply(d, a)
  local u = tonumber(ARGV[a + 1])
  local k = 1 + 9 * (u - 1)
  local feed, unread, settings, state, meta = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  local user, channel = ARGV[7 + 2 * (u - 1) + 1], ARGV[7 + 2 * (u - 1) + 2]
  local done_key, group = KEYS[d + 1], KEYS[d + 2]
  local stype, body, window = ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4])
  local done = redis.call('GET', done_key)
  if done then return 0, done end
  if check_user then
    if exists[u] == nil then exists[u] = redis.call('HEXISTS', KEYS[1], user) == 1 end
    if not exists[u] then return 4, '' end
  end
  local switch = settings .. '\n' .. stype
  if off[switch] == nil then off[switch] = redis.call('HGET', settings, stype) == '0' end
  if off[switch] then
    redis.call('SET', done_key, '', 'EX', ttl)
    return 3, ''
  end
  local gid = false
  if window > 0 then gid = redis.call('GET', group) end

  -- The newest id a trim removes ('trimmed' in the meta hash): a resume from it or above lost
  -- nothing, from below it gets `gap`. XADD's MAXLEN drops the oldest entries: note them first.
  local trimmed = false
  local before = redis.call('XLEN', feed)
  if before >= max_entries then
    local gone = redis.call('XRANGE', feed, '-', '+', 'COUNT', before - max_entries + 1)
    if #gone > 0 then trimmed = gone[#gone][1] end
  end

  local status, sid, cursor, n
  if gid then
    n = redis.call('HINCRBY', state, gid .. '#n', 1)
    if n == 1 then n = redis.call('HINCRBY', state, gid .. '#n', 1) end
    redis.call('HSET', state, gid, body)
    -- A repeat lands in the inbox: out of the archive or snooze, and (below) unread there.
    if redis.call('ZREM', KEYS[k + 6], gid) + redis.call('ZREM', KEYS[k + 7], gid) > 0 then
      redis.call('ZREM', KEYS[k + 8], gid)
    end
    cursor = redis.call('XADD', feed, 'MAXLEN', max_entries, '*', 'k', 'u', 'ref', gid, 'n', n, 's', body)
    status, sid = 2, gid
  else
    n = 1
    cursor = redis.call('XADD', feed, 'MAXLEN', max_entries, '*', 'k', 'n', 'n', 1, 's', body)
    if window > 0 then redis.call('SET', group, cursor, 'EX', window) end
    status, sid = 1, cursor
  end
  redis.call('SET', done_key, sid, 'EX', ttl)
  redis.call('ZADD', unread, score(sid), sid)
  -- XADD's MAXLEN is exact: the feed holds one more entry than before, at most max_entries.
  retain(feed, unread, state, meta, trimmed, math.min(before + 1, max_entries), before, k)
  local count = redis.call('ZCARD', unread)
  redis.call('PUBLISH', channel, frame(cursor, sid, n, body))
  redis.call('PUBLISH', channel, '\n{"type":"unread","count":' .. count .. '}')
  return status, sid
end

local out = {}
for i = 1, (#KEYS - 1 - 9 * users) / 2 do
  local status, sid = apply(1 + 9 * users + 2 * (i - 1), 7 + 2 * users + 4 * (i - 1))
  out[#out + 1] = status
  out[#out + 1] = sid
end
return out
