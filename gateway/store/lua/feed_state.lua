--[[ feed_state: change the state of some of a user's signals and tell every connection of the user.
KEYS[1] feed stream   KEYS[2] unread zset (unread in the inbox)   KEYS[3] away-unread zset
(unread, archived or snoozed)   KEYS[4] archived zset   KEYS[5] snoozed zset (score = until ms)
The unread/away-unread/archived zsets are scored by gateway.domain.streamid.score(id).
ARGV[1] live channel   ARGV[2] op: read|unread|archive|unarchive|snooze (ARGV[4] '' = un-snooze)
ARGV[3] now (ms)   ARGV[4] snooze until (ms) or ''   ARGV[5] the same as ISO 8601 UTC or ''
ARGV[6] 'ids' or 'up_to'   ARGV[7..] signal ids, or the one up_to id
Targets: the named ids that are new-signal entries of the feed (any other id is returned as
unknown); with up_to, the inbox signals up to that id (unarchive: the archived ones; un-snooze:
the snoozed ones).
A signal is in one place: the inbox, archived, or snoozed; snoozing un-archives, archiving
un-snoozes, un-snoozing and unarchiving bring it back to the inbox. Unread signals out of the
inbox are in away-unread, so the unread zset's ZCARD is the inbox's unread count.
Publishes '\n{"type":"state","ids":[changed],<the fields this op sets>}' when anything changed,
then the unread frame when the count changed. Returns {unread count, {unknown ids}}, or
{-1, {}} when a snooze time is not in the future (nothing changed).
All keys carry the org's hash tag. ]]
local feed, unread, away, archived, snoozed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local channel, op, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local until_ms, until_iso, mode = ARGV[4], ARGV[5], ARGV[6]

local function score(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms) * 1000 + math.min(tonumber(seq), 999)
end
local function fmt(n) return string.format('%.0f', n) end

if op == 'snooze' and until_ms ~= '' and tonumber(until_ms) <= now then return {-1, {}} end

local targets, unknown = {}, {}
if mode == 'ids' then
  local seen = {}
  for i = 7, #ARGV do
    local id = ARGV[i]
    if not seen[id] then
      seen[id] = true
      local e = redis.call('XRANGE', feed, id, id)
      if #e == 1 and e[1][2][1] == 'k' and e[1][2][2] == 'n' then
        targets[#targets + 1] = id
      else
        unknown[#unknown + 1] = id
      end
    end
  end
else
  local top = fmt(score(ARGV[7]))
  if op == 'read' then
    targets = redis.call('ZRANGEBYSCORE', unread, '-inf', top)
  elseif op == 'unarchive' then
    targets = redis.call('ZRANGEBYSCORE', archived, '-inf', top)
  elseif op == 'snooze' and until_ms == '' then
    for _, id in ipairs(redis.call('ZRANGE', snoozed, 0, -1)) do
      if score(id) <= tonumber(top) then targets[#targets + 1] = id end
    end
  else
    for _, e in ipairs(redis.call('XRANGE', feed, '-', ARGV[7])) do
      local id = e[1]
      if e[2][2] == 'n' and not redis.call('ZSCORE', archived, id) and not redis.call('ZSCORE', snoozed, id) then
        targets[#targets + 1] = id
      end
    end
  end
end

local before = redis.call('ZCARD', unread)
local changed = {}
local unsnoozed, unarchived = false, false
for _, id in ipairs(targets) do
  local sc = score(id)
  local in_unread = redis.call('ZSCORE', unread, id)
  local in_away = redis.call('ZSCORE', away, id)
  local is_archived = redis.call('ZSCORE', archived, id)
  local snoozed_at = redis.call('ZSCORE', snoozed, id)
  local did = false
  if op == 'read' then
    did = redis.call('ZREM', unread, id) + redis.call('ZREM', away, id) > 0
  elseif op == 'unread' then
    if not in_unread and not in_away then
      if is_archived or snoozed_at then redis.call('ZADD', away, sc, id) else redis.call('ZADD', unread, sc, id) end
      did = true
    end
  elseif op == 'archive' then
    if not is_archived then
      redis.call('ZADD', archived, sc, id)
      if snoozed_at then redis.call('ZREM', snoozed, id); unsnoozed = true end
      if in_unread then redis.call('ZREM', unread, id); redis.call('ZADD', away, sc, id) end
      did = true
    end
  elseif op == 'unarchive' then
    if is_archived then
      redis.call('ZREM', archived, id)
      if in_away and not snoozed_at then redis.call('ZREM', away, id); redis.call('ZADD', unread, sc, id) end
      did = true
    end
  elseif op == 'snooze' and until_ms ~= '' then
    if snoozed_at ~= until_ms then
      redis.call('ZADD', snoozed, until_ms, id)
      if is_archived then redis.call('ZREM', archived, id); unarchived = true end
      if in_unread then redis.call('ZREM', unread, id); redis.call('ZADD', away, sc, id) end
      did = true
    end
  elseif op == 'snooze' then
    if snoozed_at then
      redis.call('ZREM', snoozed, id)
      if in_away and not is_archived then redis.call('ZREM', away, id); redis.call('ZADD', unread, sc, id) end
      did = true
    end
  end
  if did then changed[#changed + 1] = id end
end

if #changed > 0 then
  local fields
  if op == 'read' then fields = '"read":true'
  elseif op == 'unread' then fields = '"read":false'
  elseif op == 'archive' then
    fields = '"archived":true'
    if unsnoozed then fields = fields .. ',"snoozed_until":null' end
  elseif op == 'unarchive' then fields = '"archived":false'
  elseif until_ms ~= '' then
    fields = '"snoozed_until":"' .. until_iso .. '"'
    if unarchived then fields = fields .. ',"archived":false' end
  else fields = '"snoozed_until":null' end
  redis.call('PUBLISH', channel, '\n{"type":"state","ids":["' .. table.concat(changed, '","') .. '"],' .. fields .. '}')
end
local count = redis.call('ZCARD', unread)
if count ~= before then
  redis.call('PUBLISH', channel, '\n{"type":"unread","count":' .. count .. '}')
end
return {count, unknown}
