--[[ email_reserve: count one email against the org's daily cap for its kind, once, never over.
KEYS[1] usage hash of the org's local day (individual, mass)   KEYS[2] notification hash
ARGV[1] bucket ('individual' or 'mass')   ARGV[2] cap for that bucket   ARGV[3] TTL seconds of
KEYS[1] (until the local day ends, plus a margin)   ARGV[4] the local day (YYYY-MM-DD)
Returns {1, used} counted now, {2, used} already counted for this notification (a retried job),
{0, used} the cap is reached (nothing changes: a refused send costs nothing).
Invariant: used <= cap under any concurrency; a notification is counted at most once. ]]
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if redis.call('HEXISTS', KEYS[2], 'counted_day') == 1 then return {2, used} end
if used >= tonumber(ARGV[2]) then return {0, used} end
used = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('HSET', KEYS[2], 'counted_day', ARGV[4])
return {1, used}
