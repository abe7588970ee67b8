--[[ call_flow_missed: at the final status (completed) of an inbound call, whether a call flow
handled it and nobody took it — a missed call — decided once and kept on the call's log row.
KEYS[1] call hash (the call log row)   KEYS[2] the call's "answered" marker (gateway.store.keys.call_answered)
ARGV[1] key of the event carrying the final status
Returns the flow's id when this event is the one that found the call missed (again on a replay of
the same event: a router routing it twice writes the same signal twice, which the feed drops),
else false: no flow handled the call, someone answered it (a dial, a queue accept, a voicemail),
or another event decided already. The decision is stored as `missed` (1/0) and `missed_event`,
so a later marker, an expired one or a second status callback never changes it. ]]
local decided = redis.call('HGET', KEYS[1], 'missed')
if decided then
  if decided == '1' and redis.call('HGET', KEYS[1], 'missed_event') == ARGV[1] then
    return redis.call('HGET', KEYS[1], 'flow')
  end
  return false
end
local flow = redis.call('HGET', KEYS[1], 'flow')
if not flow or flow == '' then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[1], 'missed', '0', 'missed_event', ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'missed', '1', 'missed_event', ARGV[1])
return flow
