--[[ ingest: accept one event exactly once and make it durable in its partition stream.
KEYS[1] partition stream   KEYS[2] dedupe key (optional; one org's: sg:{p:N}:seen:<org>:<source>:<id>,
        same hash tag as the stream)
ARGV[1] dedupe TTL seconds   ARGV[2..] field/value pairs of the stream entry
Returns {1, id} for a new event, {0, id-of-first} for a repeat of the same org (nothing appended).
Invariant: dedupe check and append are one atomic step, so concurrent retries of one provider
callback append exactly one entry, and a refused repeat never leaves a half-written event. ]]
if #KEYS == 2 then
  local seen = redis.call('GET', KEYS[2])
  if seen then return {0, seen} end
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
if #KEYS == 2 then redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[1])) end
return {1, id}
