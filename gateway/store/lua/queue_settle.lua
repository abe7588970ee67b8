--[[ queue_settle: the first to settle one caller's wait wins; the legs left to hang up.
KEYS[1] legs set   KEYS[2] settled marker
ARGV[1] who settles: the call sid of a member leg accepting the caller, or '' (the caller left
the queue: any QueueResult)   ARGV[2] TTL seconds
Returns {winner, legs}: winner = who settled first ('' = the caller left; equal to ARGV[1] when this
call won, also on a retry of the winning request); legs = the recorded legs not hung up yet, minus
the winner's and the settling leg's own (it is answered with TwiML). The set is emptied, so each
leg is handed out once. ]]
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', tonumber(ARGV[2]))
local winner = redis.call('GET', KEYS[2])
local legs = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local out = {}
for _, leg in ipairs(legs) do
  if leg ~= winner and leg ~= ARGV[1] then out[#out + 1] = leg end
end
return {winner, out}
