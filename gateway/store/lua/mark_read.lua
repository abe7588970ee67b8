--[[ mark_read: mark signals read and tell every connection of the user the new unread count.
KEYS[1] unread zset (member = signal id, score = gateway.domain.streamid.score(id))
ARGV[1] live pub/sub channel   ARGV[2] 'ids' or 'up_to'   ARGV[3..] signal ids, or one score
Returns the unread count after the change. Publishes only when something changed. ]]
local removed
if ARGV[2] == 'up_to' then
  removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
elseif #ARGV >= 3 then
  removed = redis.call('ZREM', KEYS[1], unpack(ARGV, 3))
else
  removed = 0
end
local unread = redis.call('ZCARD', KEYS[1])
if removed > 0 then
  redis.call('PUBLISH', ARGV[1], '\n{"type":"unread","count":' .. unread .. '}')
end
return unread
