--[[ fanout_done: count a segment send's member notification as done, once, as its status changes.
KEYS[1] notification hash, just written (its new 'rank')   ARGV[1] its rank before the change
The notification of a segment send carries 'fanout_key' (the send's hash, under the same org tag,
so the same hash slot) and 'fanout_rank' (the rank from which it counts as done: 'sent' and every
outcome). Returns 1 when the send's 'done' grew now, else 0.
Invariant: rank only grows (advance_status, notification_cancel), so the change that first takes
it from below 'fanout_rank' to at least it happens once, and 'done' grows in that same atomic step;
a send already expired is not recreated. ]]
local member = redis.call('HMGET', KEYS[1], 'fanout_key', 'fanout_rank', 'rank')
if not member[1] or not member[2] then return 0 end
local threshold = tonumber(member[2])
if tonumber(ARGV[1]) >= threshold or tonumber(member[3] or '-1') < threshold then return 0 end
if redis.call('EXISTS', member[1]) == 0 then return 0 end
redis.call('HINCRBY', member[1], 'done', 1)
return 1
