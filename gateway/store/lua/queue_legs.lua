--[[ queue_legs: record the member calls ("legs") Twilio placed for one caller's queue.
KEYS[1] legs set   KEYS[2] settled marker (who settled the wait; absent while the caller waits)
ARGV[1] TTL seconds   ARGV[2..] the legs' call sids
While the wait is open the legs are kept (for whoever settles it) and {} is returned. Once it is
settled (a leg took the caller, or the caller left: placing the calls raced with it) nothing is
kept and the legs to hang up now are returned: all but the winner's. ]]
local winner = redis.call('GET', KEYS[2])
if not winner then
  redis.call('SADD', KEYS[1], unpack(ARGV, 2))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
  return {}
end
local out = {}
for i = 2, #ARGV do
  if ARGV[i] ~= winner then out[#out + 1] = ARGV[i] end
end
return out
