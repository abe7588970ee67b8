--[[ fanout_create: create a segment send's hash unless it exists, whole, in one step.
KEYS[1] the send's hash   ARGV[1] retention (seconds)   ARGV[2..] field/value pairs (id included)
Returns 1 when created now, 0 when it existed (nothing changes).
Invariant: a reader (a repeated request at the same moment, the worker) sees no send or a whole
one, never a hash with some of its fields. ]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
