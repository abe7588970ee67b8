--[[ signal_acted: record that the user acted on a signal, mark it read, and tell every connection.
KEYS[1] acted hash (signal id -> JSON)   KEYS[2] unread zset (member = signal id; the inbox's)
KEYS[3] away-unread zset (unread signals that are archived or snoozed)
ARGV[1] live pub/sub channel   ARGV[2] signal id   ARGV[3] the acted JSON
ARGV[4] the state frame JSON (`{"type":"state","ids":[id],"read":true,"acted":{...}}`)
All keys share the org's hash slot. An archived or snoozed signal is marked read too (it stays
where it is). Publishes the state frame always (another tab shows the
action even when the signal was read already), and the unread count when it changed.
Returns the unread count after the change. ]]
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local removed = redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
local unread = redis.call('ZCARD', KEYS[2])
redis.call('PUBLISH', ARGV[1], '\n' .. ARGV[4])
if removed > 0 then
  redis.call('PUBLISH', ARGV[1], '\n{"type":"unread","count":' .. unread .. '}')
end
return unread
