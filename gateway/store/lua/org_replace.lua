--[[ org_replace: replace an org's record if nobody changed it since it was read (signalgate reseal).
KEYS[1] the org's record   ARGV[1] the record as read   ARGV[2] the new record
Returns 1 written, 0 no such org (deleted meanwhile: never brought back), -1 the record changed
since it was read (the caller reads it again). ]]
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
