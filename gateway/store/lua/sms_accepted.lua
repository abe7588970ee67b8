--[[ sms_accepted: the provider accepted an SMS: record its sid, link the message, end the attempt,
advance to 'sent', in one step.
KEYS[1] notification hash   KEYS[2] its status history   KEYS[3] the message's status hash (by sid)
ARGV[1] provider message sid   ARGV[2] now (ms)   ARGV[3] rank of 'sent'   ARGV[4] event id
ARGV[5..] field/value pairs of the message link (notification, to, user)
Returns advance_status's answer (1 advanced now or a replay of the same event, 0 already further).
Invariant: a notification whose attempt is cleared always has its provider sid and its link,
so a later run finds 'done' and never calls the provider again. ]]
--#include advance_status
redis.call('HSET', KEYS[1], 'provider_sid', ARGV[1])
if #ARGV >= 5 then redis.call('HSET', KEYS[3], unpack(ARGV, 5)) end
redis.call('HDEL', KEYS[1], 'attempt_ms', 'attempt_token')
return advance_status({KEYS[1], KEYS[2]}, {'sent', ARGV[3], ARGV[4], ARGV[2], ''})
