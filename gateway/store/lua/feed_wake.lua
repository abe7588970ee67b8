--[[ feed_wake: bring back the user's signals snoozed until exactly ARGV[2] (a due entry's time).
KEYS[1] feed stream   KEYS[2] unread zset   KEYS[3] away-unread zset   KEYS[4] archived zset
KEYS[5] snoozed zset (score = until ms)   KEYS[6] signal-state hash (grouped signals' JSON and #n)
ARGV[1] live channel   ARGV[2] until (ms)
A signal wakes only while its snooze still has that exact time: a re-snooze, an un-snooze, an
archive, a grouped repeat or a second waker applying the same due entry changes nothing, so each
snooze returns exactly once. Waking puts the signal back in the inbox, unread, appends a `k=u`
entry (ref, current count and JSON, `w=1`: not a group member) so a client resuming with `after`
gets it too, and publishes it as a `signal` frame at that cursor; then one `state` frame and the
`unread` frame. Returns how many signals woke. All keys carry the org's hash tag. ]]
local feed, unread, away, archived, snoozed, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local channel, at = ARGV[1], ARGV[2]

local function score(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms) * 1000 + math.min(tonumber(seq), 999)
end

local woken = {}
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', snoozed, at, at)) do
  redis.call('ZREM', snoozed, sid)
  local current = redis.call('HMGET', state, sid, sid .. '#n')
  local body, n = current[1], current[2]
  if not (body and n) then
    local e = redis.call('XRANGE', feed, sid, sid)
    if #e == 1 then
      local f = e[1][2]
      for i = 1, #f, 2 do
        if f[i] == 'n' then n = f[i + 1] elseif f[i] == 's' then body = f[i + 1] end
      end
    end
  end
  if body and n then
    redis.call('ZREM', away, sid)
    redis.call('ZREM', archived, sid)
    redis.call('ZADD', unread, score(sid), sid)
    local cursor = redis.call('XADD', feed, '*', 'k', 'u', 'ref', sid, 'n', n, 's', body, 'w', '1')
    redis.call('PUBLISH', channel, cursor .. '\n{"type":"signal","cursor":"' .. cursor .. '","signal":{"id":"' .. sid ..
      '","count":' .. n .. ',"read":false,"archived":false,"snoozed_until":null,' .. string.sub(body, 2) .. '}')
    woken[#woken + 1] = sid
  end
end
if #woken > 0 then
  redis.call('PUBLISH', channel,
    '\n{"type":"state","ids":["' .. table.concat(woken, '","') .. '"],"read":false,"snoozed_until":null}')
  redis.call('PUBLISH', channel, '\n{"type":"unread","count":' .. redis.call('ZCARD', unread) .. '}')
end
return #woken
