--[[ advance_status: move an SMS, a call or a notification forward in its status order, never back.
KEYS[1] record hash (status, rank, event, ...)   KEYS[2] status history list
ARGV[1] new status   ARGV[2] its rank (gateway.domain.status / gateway.domain.notifications)
ARGV[3] id of the event carrying it   ARGV[4] now (ms)   ARGV[5] note for the history ("" = none)
ARGV[6..] extra field/value pairs stored with the status (e.g. error_code)
Returns 1 when this event advanced the status (or already did: a replay of the same event), 0
when it was a duplicate or out of order. Invariant: `rank` only grows, and exactly one event id
is recorded per advance, so a router replaying an event after a crash gets the same answer.
A member notification of a segment send reaching an outcome counts in the send's `done` in the
same step (fanout_done; a no-op for every other record). ]]
--#include fanout_done
if redis.call('HGET', KEYS[1], 'event') == ARGV[3] then return 1 end
local current = tonumber(redis.call('HGET', KEYS[1], 'rank') or '-1')
if tonumber(ARGV[2]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'event', ARGV[3], 'updated_ms', ARGV[4])
if #ARGV >= 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 6)) end
local entry = ARGV[4] .. ' ' .. ARGV[1]
if ARGV[5] ~= '' then entry = entry .. ' ' .. ARGV[5] end
redis.call('RPUSH', KEYS[2], entry)
fanout_done({KEYS[1]}, {current})
return 1
