--[[ count_once: count an event that made no signal (e.g. from an unknown sender), once.
KEYS[1] done marker for the event   KEYS[2] stats hash
ARGV[1] stats field   ARGV[2] done-marker TTL seconds
Returns 1 if counted now, 0 if this event was already counted (router replay). ]]
if redis.call('SET', KEYS[1], '', 'NX', 'EX', tonumber(ARGV[2])) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
