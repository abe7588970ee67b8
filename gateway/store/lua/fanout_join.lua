--[[ fanout_join: make an existing notification a member of a segment send (it was made before,
under the member's idempotency key, e.g. by a plain send with that key).
KEYS[1] notification hash   KEYS[2] the segment send's hash (same org tag)
ARGV[1] the rank from which a member counts as done
Returns 1 when it joined now, 0 when it belongs to a send already (this one or another).
Invariant: a notification counts in at most one send's `done`, once: if it already has an outcome
it is counted here, in the step that links it; otherwise fanout_done counts it when it gets one. ]]
if redis.call('HEXISTS', KEYS[1], 'status') == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'fanout_key', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'fanout_rank', ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'rank') or '-1') >= tonumber(ARGV[1]) and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'done', 1)
end
return 1
