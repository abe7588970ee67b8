--[[ report_once: count something in the email report at most once.
KEYS[1] hash holding "already counted" flags (a notification hash, or a per-day marker hash)
KEYS[2] report hash of one local day
ARGV[1] flag field in KEYS[1] (e.g. "opened_ms", or an event id)   ARGV[2] flag value
ARGV[3] TTL seconds for KEYS[2] (and for KEYS[1] when ARGV[4] is "1")   ARGV[4] "1" to expire KEYS[1]
ARGV[5..] report fields to increment by one
When KEYS[1] is a notification (ARGV[4] "0") rendered from a template version (its fields
`template` and `template_version`, written when it was sent), the version's own counter
`v:<template>:<version>:<ARGV[5]>` is incremented too, so reports compare versions.
Returns 1 when counted now, 0 when it had been counted before (a repeat open, a replayed event).
Invariant: the flag and the increments are one atomic step, so concurrent or replayed events
never count twice and a crash never leaves a flag without its count. ]]
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
for i = 5, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
if ARGV[4] == '0' and ARGV[5] then
  local t = redis.call('HMGET', KEYS[1], 'template', 'template_version')
  if t[1] and t[2] then redis.call('HINCRBY', KEYS[2], 'v:' .. t[1] .. ':' .. t[2] .. ':' .. ARGV[5], 1) end
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
if ARGV[4] == '1' then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1
