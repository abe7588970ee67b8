--[[ notification_create: store a new notification (status queued) unless it exists, in one step.
KEYS[1] notification hash   KEYS[2] its status history list
ARGV[1] now (ms)   ARGV[2] retention (seconds)   ARGV[3..] field/value pairs of the record,
status ('queued' or 'scheduled'), rank, created_ms and updated_ms included
Returns {1, fields} when created now, {0, fields} when it existed (fields: HGETALL, flat).
Invariant: a notification is created once, with its status, rank and first history entry in the
same atomic step, so a reader never sees a record without a status (the API and the worker both
create the record of the same job, concurrently). ]]
if redis.call('HEXISTS', KEYS[1], 'status') == 1 then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('RPUSH', KEYS[2], ARGV[1] .. ' ' .. redis.call('HGET', KEYS[1], 'status'))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return {1, redis.call('HGETALL', KEYS[1])}
