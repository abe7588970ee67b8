-- Releasing one of the org's numbers, against the call flows going live on it. KEYS[1] the org's
-- numbers (hash E.164 -> JSON), KEYS[2] numbers being released (same shape), KEYS[3] the call
-- flows' live index (hash E.164 -> flow id). All under {org}. ARGV: op, E.164.
--   'begin'   refused ({'in_use'}) while a published, enabled flow answers on the number;
--             otherwise the number leaves the org's numbers (so call_flow_write.lua refuses to put
--             a flow live on it) and is parked in KEYS[2] until Twilio has answered: {'ok', JSON}.
--             A number already parked (a release cut short) is answered again: {'ok', JSON}.
--             {'not_found'} when it is neither.
--   'restore' Twilio refused the release: the number is the org's again (unless re-added since).
--   'done'    Twilio released it: forget the parked record.
local numbers, releasing, live = KEYS[1], KEYS[2], KEYS[3]
local op, number = ARGV[1], ARGV[2]

if op == 'begin' then
  local rec = redis.call('HGET', numbers, number)
  if not rec then
    rec = redis.call('HGET', releasing, number)
    if rec then return {'ok', rec} end
    return {'not_found'}
  end
  if redis.call('HEXISTS', live, number) == 1 then return {'in_use'} end
  redis.call('HSET', releasing, number, rec)
  redis.call('HDEL', numbers, number)
  return {'ok', rec}
end

if op == 'restore' then
  local rec = redis.call('HGET', releasing, number)
  if rec then
    redis.call('HDEL', releasing, number)
    redis.call('HSETNX', numbers, number, rec)
  end
  return {'ok'}
end

if op == 'done' then
  redis.call('HDEL', releasing, number)
  return {'ok'}
end

return redis.error_reply('number_release: unknown op ' .. tostring(op))
