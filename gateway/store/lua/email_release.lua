--[[ email_release: give back a notification's place in the daily cap (a send that never went out).
KEYS[1] usage hash of the local day it was counted on   KEYS[2] notification hash
ARGV[1] bucket ('individual' or 'mass')   ARGV[2] that local day (YYYY-MM-DD)
Returns 1 when released now, 0 when it was not counted on that day (or already released).
Invariant: a notification is released at most once and only if email_reserve counted it: the
`counted_day` field is removed in the same atomic step as the decrement. ]]
if redis.call('HGET', KEYS[2], 'counted_day') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], 'counted_day')
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
end
return 1
