--[[ begin_attempt: claim the right to call the provider for a notification.
KEYS[1] notification hash
ARGV[1] now (ms)   ARGV[2] stale after (ms): longer than any provider call can take
ARGV[3] claim token of this run   ARGV[4] the attempt_ms this run saw as stale ('' if none)
Returns {'done', sid} the provider already accepted it; {'busy', age_ms} another run's call may
still be in flight; {'stale', attempt_ms} an earlier call has no outcome and is old enough to
reconcile (call again with that attempt_ms to take over); {'go', ''} this run holds the claim.
Invariant: at most one run at a time may call the provider for a notification, and a run never
calls it while an earlier call could still create a message: it must first reconcile (look the
message up at the provider) and take over with a compare-and-set on attempt_ms. ]]
local sid = redis.call('HGET', KEYS[1], 'provider_sid')
if sid then return {'done', sid} end
local attempt = redis.call('HGET', KEYS[1], 'attempt_ms')
if attempt then
  local age = tonumber(ARGV[1]) - tonumber(attempt)
  if age < tonumber(ARGV[2]) then return {'busy', tostring(age)} end
  if ARGV[4] ~= attempt then return {'stale', attempt} end
end
redis.call('HSET', KEYS[1], 'attempt_ms', ARGV[1], 'attempt_token', ARGV[3])
return {'go', ''}
